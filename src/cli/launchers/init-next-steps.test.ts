// What `cbo init` prints in text mode: each step's line and the next steps, as commands that run
// as printed (`npx cbo …` when cbo is not on PATH, as under vitest) and that name the data directory.
import { describe, expect, it } from "vitest";
import { nextSteps, stepLine } from "./init-command.ts";

describe("cbo init's step lines and next steps", () => {
  it("says the skipped tunnel step's command as it runs here", () => {
    const line = stepLine({
      id: "tunnel",
      title: "Cloudflare Tunnel",
      status: "skipped",
      detail: "optional, skipped: cloudflared is not installed. Install cloudflared, then run `cbo tunnel create`.",
    });
    expect(line).toContain("then run `npx cbo tunnel create`.");
  });

  it("names the data directory on every next step, the tunnel's too", () => {
    const out = nextSteps(
      true,
      {
        dataDir: "/srv/x/.cbo",
        configFile: "/srv/x/orchestrator.yaml",
        targets: { kind: "local", regions: ["eu"] },
        masterKey: { kind: "file", file: "/srv/x/.cbo/master.key" },
        release: true,
        serve: false,
      },
      false,
    );
    const lines = out.split("\n").filter((l) => l.includes("cbo "));
    expect(lines.length).toBe(4);
    for (const l of lines) expect(l, l).toContain("--data /srv/x/.cbo");
    expect(out).toContain("  tunnel:      cbo tunnel create --data /srv/x/.cbo");
    // The MCP server finds its daemon through --data too; without it, `cbo mcp` from the same
    // directory reads ./.cbo/daemon.json and talks to another daemon (or none) with this token.
    expect(out).toMatch(/CBO_TOKEN=… cbo mcp --data \/srv\/x\/\.cbo/);
    // Default ports add nothing; regions other than the default (eu, us, ap) are kept.
    expect(out).toContain("  start:       cbo up --data /srv/x/.cbo --config /srv/x/orchestrator.yaml --regions eu\n");
  });

  it("the start line keeps the ports and regions this run was given, so it does not meet the busy defaults", () => {
    const choices = {
      dataDir: "/srv/x/.cbo",
      configFile: "/srv/x/orchestrator.yaml",
      targets: { kind: "local" as const, regions: ["eu", "us"] },
      masterKey: { kind: "file" as const, file: "/srv/x/.cbo/master.key" },
      release: true,
      serve: false,
    };
    const out = nextSteps(true, choices, false, { port: 18720, edgePort: 18790 });
    expect(out).toContain(
      "  start:       cbo up --data /srv/x/.cbo --config /srv/x/orchestrator.yaml --port 18720 --edge-port 18790 --regions eu,us\n",
    );
    const cf = nextSteps(
      true,
      {
        ...choices,
        targets: {
          kind: "cloudflare",
          accounts: [{ name: "cf", accountId: "0".repeat(32) }],
          apiUrl: "https://api.cloudflare.com/client/v4",
        },
      },
      false,
      { port: 18720, edgePort: 18790 },
    );
    expect(cf).toContain("cbo daemon --data /srv/x/.cbo --config /srv/x/orchestrator.yaml --port 18720   (with CLOUDFLARE_API_TOKEN");
    expect(cf).not.toContain("--edge-port");
  });
});
