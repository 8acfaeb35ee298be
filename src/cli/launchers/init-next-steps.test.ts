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
  });
});
