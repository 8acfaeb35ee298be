// `cbo tunnel create|config|status` against a real local edge and daemon: the tunnel and its
// ingress are made through the Cloudflare API (read back from the edge), cloudflared's config, the
// token file and the record are 0600 in <data>/tunnel with the catch-all rule last, re-applying is
// idempotent, a create interrupted before its record is finished by the next one, and the token
// appears nowhere but its file. Also: the daemon refuses a public interface without the flag.
import { readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { tunnelCommand } from "../src/cli/commands/tunnel-command.ts";
import { startDaemon } from "../src/daemon.ts";
import { isCboError } from "../src/kit/errors.ts";
import { runInProcess } from "./support/cli-in-process.ts";
import { startTunnelRig, type TunnelRig } from "./tunnel-fixture.ts";

const SPEC = `version: 1
targets:
  - { name: eu, api: local }
workers:
  - name: hello
    main: hello.js
`;
const HELLO = `export default { fetch: () => new Response("hi") };`;
type Rule = { hostname?: string; path?: string; service: string };

describe("cbo tunnel create, config, status", () => {
  let rig: TunnelRig;
  let cli: (...args: string[]) => ReturnType<typeof runInProcess>;
  const mode = (f: string) => statSync(f).mode & 0o777;
  const tunnelDir = () => join(rig.dataDir, "tunnel");
  const accountId = () => rig.t.edge.regions[0]!.accountId;
  const outputs: string[] = [];

  beforeAll(async () => {
    rig = await startTunnelRig({ spec: SPEC, files: { "hello.js": HELLO } });
    cli = async (...args) => {
      const r = await runInProcess(tunnelCommand, [...args, "--url", rig.d.url, "--token", rig.token]);
      outputs.push(r.out, r.stderr);
      return r;
    };
  }, 60_000);
  afterAll(async () => rig?.close());

  it("says there is no tunnel yet, and that the local edge needs no cloudflared", async () => {
    const r = await cli("status");
    expect(r.code).toBe(0);
    expect(r.out).toContain("no tunnel configured");
    expect(r.out).toContain("cloudflared  not needed on the local edge (not installed)");
    expect(r.out).not.toContain("apt-get install cloudflared");
    const health = await rig.api<{ ok: boolean; tunnel: unknown }>("GET", "/v1/health");
    expect(health).toEqual({ ok: true, storage: { full: false }, tunnel: { configured: false, process: "not-installed", restarts: 0 } });
  });

  it("creates the tunnel and its ingress through the API and writes 0600 files with the catch-all last", async () => {
    const r = await cli("create", "--hostname", "cbo.example.test", "--agent-hostname", "edge.example.test");
    expect(r.code, r.stderr).toBe(0);
    expect(r.out).toContain("created tunnel clawdbot-orchestrator");
    expect(r.out).toContain("https://cbo.example.test");
    expect(r.out).toContain("https://edge.example.test as CBO_ORCHESTRATOR_URL");
    // The next step runs as printed: `npx cbo` here (not on PATH), as every hint says it.
    expect(r.out).toContain("with their next release: npx cbo release <worker>.");

    const files = {
      token: join(tunnelDir(), "token"),
      config: join(tunnelDir(), "cloudflared.yml"),
      record: join(tunnelDir(), "tunnel.json"),
    };
    for (const f of Object.values(files)) expect(mode(f), f).toBe(0o600);
    expect(mode(tunnelDir())).toBe(0o700);

    const record = JSON.parse(readFileSync(files.record, "utf8")) as { id: string; ingress: Rule[]; service: string };
    const expected: Rule[] = [
      { hostname: "edge.example.test", path: "^/v1/relay$", service: record.service },
      { hostname: "edge.example.test", path: "^/v1/agent/heartbeat$", service: record.service },
      { hostname: "cbo.example.test", service: record.service },
      { service: "http_status:404" },
    ];
    expect(record.service).toBe(rig.d.url);
    expect(record.ingress).toEqual(expected);

    // What Cloudflare (here the local edge) holds: the same ingress, catch-all last.
    const remote = await rig.edgeGet<{ config: { ingress: Rule[] } }>(`/accounts/${accountId()}/cfd_tunnel/${record.id}/configurations`);
    expect(remote.config.ingress).toEqual(expected);
    // cloudflared's file: the tunnel, the same ingress, and the token only as a file path.
    const yml = parse(readFileSync(files.config, "utf8")) as { tunnel: string; ingress: Rule[] };
    expect(yml.tunnel).toBe(record.id);
    expect(yml.ingress).toEqual(expected);
    // The token file holds the connector token Cloudflare hands out for this tunnel.
    const token = await rig.edgeGet<string>(`/accounts/${accountId()}/cfd_tunnel/${record.id}/token`);
    expect(readFileSync(files.token, "utf8").trim()).toBe(token);
  });

  it("records the tunnel and its creation in the audit log, and shows it in status", async () => {
    const entries = rig.d.security.audit.search({ action: "tunnel.create", limit: 10 });
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ actor: expect.stringContaining("token:"), outcome: "ok", target: "tunnel:clawdbot-orchestrator" });

    const s = await rig.api<{
      configured: boolean;
      tunnel: { hostname: string; agentUrl: string };
      remote: { status: string; connections: number };
      process: { state: string };
    }>("GET", "/v1/tunnel/status");
    expect(s).toMatchObject({
      configured: true,
      tunnel: { hostname: "cbo.example.test", agentUrl: "https://edge.example.test" },
      remote: { status: "inactive", connections: 0 },
      process: { state: "not-installed" },
    });
    const r = await cli("status");
    expect(r.out).toMatch(/cloudflare\s+inactive, 0 connections/);
    expect(r.out).toContain("local edge");
    expect((await rig.api<{ tunnel: unknown }>("GET", "/v1/health")).tunnel).toEqual({
      configured: true,
      process: "not-installed",
      restarts: 0,
    });
  });

  it("shows and re-applies the same ingress (idempotent)", async () => {
    const shown = await cli("config");
    expect(shown.code).toBe(0);
    expect(shown.out).toContain("in sync");
    expect(shown.out).toMatch(/4\s+\*\s+\*\s+http_status:404/);
    const before = {
      yml: readFileSync(join(tunnelDir(), "cloudflared.yml"), "utf8"),
      token: readFileSync(join(tunnelDir(), "token"), "utf8"),
    };
    const first = await rig.api<{ applied: Rule[]; configVersion: number; inSync: boolean }>("PUT", "/v1/tunnel/config", {});
    const again = await cli("config", "--apply", "--json");
    const second = JSON.parse(again.out) as typeof first;
    expect(second.applied).toEqual(first.applied);
    expect(second.configVersion).toBe(first.configVersion + 1);
    expect(second.inSync).toBe(true);
    expect(readFileSync(join(tunnelDir(), "cloudflared.yml"), "utf8")).toBe(before.yml);
    expect(readFileSync(join(tunnelDir(), "token"), "utf8")).toBe(before.token);
    expect(rig.d.security.audit.search({ action: "tunnel.config", limit: 10 })).toHaveLength(2);
  });

  it("refuses a second tunnel, and refuses viewers", async () => {
    const r = await cli("create", "--hostname", "other.example.test");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("ERR_CONFLICT");
    const viewer = await rig.api<{ token: string }>("POST", "/v1/tokens", { name: "v", role: "viewer" });
    const res = await fetch(new URL("/v1/tunnel/config", rig.d.url), {
      method: "PUT",
      headers: { authorization: `Bearer ${viewer.token}`, "content-type": "application/json" },
      body: "{}",
    });
    expect(res.status).toBe(403);
  });

  it("finishes a create whose record was lost by taking over the tunnel of the same name", async () => {
    const old = JSON.parse(readFileSync(join(tunnelDir(), "tunnel.json"), "utf8")) as { id: string };
    rmSync(tunnelDir(), { recursive: true });
    // The manager keeps the record in memory; a new daemon on the same data stands in for the crash.
    await rig.d.close();
    rig.d = await startDaemon({
      dataDir: rig.dataDir,
      configFile: join(rig.dir, "orchestrator.yaml"),
      edge: rig.t.edge,
      masterKeyFile: join(rig.dir, "master.key"),
      env: {},
      port: 0,
      monitorIntervalMs: 60_000,
      log: (l) => rig.logs.push(l),
    });
    const r = await cli("create", "--hostname", "cbo.example.test", "--json");
    expect(r.code, r.stderr).toBe(0);
    const created = JSON.parse(r.out) as { adopted: boolean; tunnel: { id: string } };
    expect(created).toMatchObject({ adopted: true, tunnel: { id: old.id } });
    const all = await rig.edgeGet<Array<{ id: string; deleted_at: string | null }>>(`/accounts/${accountId()}/cfd_tunnel?is_deleted=false`);
    expect(all.map((t) => t.id)).toEqual([old.id]);
  });

  it("never lets the connector token out of its file", async () => {
    const record = JSON.parse(readFileSync(join(tunnelDir(), "tunnel.json"), "utf8")) as { id: string };
    const token = await rig.edgeGet<string>(`/accounts/${accountId()}/cfd_tunnel/${record.id}/token`);
    const secret = JSON.parse(Buffer.from(token, "base64").toString("utf8")) as { s: string };
    const places = {
      cli: outputs.join("\n"),
      logs: rig.logs.join("\n"),
      audit: JSON.stringify(rig.d.security.audit.search({ limit: 10_000 })),
      status: JSON.stringify(await rig.api("GET", "/v1/tunnel/status")),
      config: readFileSync(join(tunnelDir(), "cloudflared.yml"), "utf8"),
      record: readFileSync(join(tunnelDir(), "tunnel.json"), "utf8"),
    };
    for (const [where, text] of Object.entries(places)) {
      expect(text.includes(token), where).toBe(false);
      expect(text.includes(secret.s), where).toBe(false);
    }
  });

  it("refuses to listen on a public interface unless told to", async () => {
    const err = await startDaemon({
      dataDir: join(rig.dir, "public"),
      configFile: join(rig.dir, "orchestrator.yaml"),
      edge: rig.t.edge,
      host: "0.0.0.0",
      env: {},
      log: () => {},
    }).catch((e: unknown) => e);
    expect(isCboError(err) && err.code).toBe("ERR_VALIDATION");
    expect((err as Error).message).toContain("Refusing to listen on 0.0.0.0");
  });
});
