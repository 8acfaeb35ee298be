// `cbo mcp` end to end: an MCP client from the official SDK (Client + StdioClientTransport)
// spawns the real `node bin/cbo.js mcp` against a real daemon (startDaemon) on a real three-region
// local edge. The agent acts with its own `agent` token; what it changes is checked on the edge
// (which version each region serves), in the vault, and in the audit log.
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Daemon } from "../src/daemon.ts";
import { usageOf } from "../src/cli/usage/index.ts";
import { connectMcp, type McpSession, startMcpDaemon, texts } from "./support/mcp-client.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { edgeInfo, fleetYaml, liveOf, localRuntimes, servedTags, versionSource, writeFleet, type Fleet } from "./support/orchestrator.ts";
import { runCbo } from "./support/run-cbo.ts";

const REGIONS = ["eu", "us", "ap"];
const GATE = { probe_path: "/", interval_ms: 50, timeout_ms: 1000, failure_limit: 3, max_error_rate: 0.05, bake_ms: 200, min_samples: 3 };
const TOOLS = [
  "audit_search",
  "config_diff",
  "config_publish",
  "d1_restore",
  "diff",
  "plan",
  "release",
  "release_control",
  "release_show",
  "releases",
  "rollback",
  "secret_rotate",
  "secrets",
  "status",
  "versions",
];
const MUTATING = ["config_publish", "d1_restore", "release", "release_control", "rollback", "secret_rotate"];

const call = async (s: McpSession, name: string, args: Record<string, unknown> = {}) =>
  (await s.client.callTool({ name, arguments: args })) as CallToolResult;

describe("cbo mcp (official SDK client over stdio) against a real daemon and local edge", () => {
  let t: TestEdge;
  let dir: string;
  let fleet: Fleet;
  let daemon: Daemon;
  let agent: { id: string; token: string };
  let mcp: McpSession;
  const versions: Record<string, Record<string, string>> = {};
  const port = (r: string) => t.edge.region(r).port;
  const rest = async <T = unknown>(method: string, path: string, token: string, body?: unknown) => {
    const res = await fetch(daemon.url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as T };
  };
  const audit = (action: string) => daemon.security.audit.search({ action, limit: 100 });

  beforeAll(async () => {
    t = await startTestEdge({ regions: REGIONS });
    dir = await makeTempDir("mcp");
    fleet = await writeFleet(dir, fleetYaml({ workers: ["hello"], steps: [50, 100], waves: [["eu"], ["us", "ap"]], gate: GATE }), {
      hello: versionSource("v1"),
    });
    daemon = await startMcpDaemon(dir, fleet.file, t.edge);
    const created = await rest<{ id: string; token: string }>("POST", "/v1/tokens", daemon.initialAdminToken!, {
      name: "clawdbot",
      role: "agent",
    });
    expect(created.status).toBe(200);
    agent = { id: created.body.id, token: created.body.token };
    daemon.security.vault.put("WEBHOOK_KEY", "initial-webhook-key-value", { cas: 0, mode: "relay", by: "test" });
    // Two releases, so that there is an earlier version to roll back to.
    const runtimes = localRuntimes(edgeInfo(t.edge), fleet.spec);
    for (const tag of ["v1", "v2"]) {
      await fleet.setSource("hello", versionSource(tag));
      const r = await daemon.engine.wait((await daemon.engine.release("hello", { by: "test" })).id);
      expect(r.status).toBe("succeeded");
      versions[tag] = Object.fromEntries(
        await Promise.all(REGIONS.map(async (reg) => [reg, (await liveOf(runtimes.get(reg)!, "hello"))[0]!.versionId] as const)),
      );
    }
    mkdirSync(join(dir, "incoming"));
    mcp = await connectMcp(daemon.url, agent.token, undefined, { secretFiles: join(dir, "incoming") });
  });

  afterAll(async () => {
    await mcp?.close();
    await daemon?.close();
    await t?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("lists the tools; the mutating ones take confirm and say they are destructive", async () => {
    const { tools } = await mcp.client.listTools();
    expect(tools.map((x) => x.name).sort()).toEqual(TOOLS);
    // `cbo mcp --help` and the server's instructions to the agent name every tool.
    for (const name of TOOLS) {
      expect(usageOf("mcp"), name).toMatch(new RegExp(`\\b${name}\\b`));
      expect(mcp.client.getInstructions(), name).toMatch(new RegExp(`\\b${name}\\b`));
    }
    for (const tool of tools) {
      const props = Object.keys((tool.inputSchema as { properties?: Record<string, unknown> }).properties ?? {});
      expect(props.includes("confirm"), tool.name).toBe(MUTATING.includes(tool.name));
      expect(tool.annotations?.readOnlyHint, tool.name).toBe(!MUTATING.includes(tool.name));
    }
    expect(mcp.stderr()).not.toContain("warning");
  });

  it("a tool call over the 4 MiB message limit is answered -32600 and dropped; the session goes on (it used to end it)", async () => {
    const huge = await mcp.client.callTool({ name: "status", arguments: { worker: "x".repeat(5 * 1024 * 1024) } }).then(
      () => undefined,
      (e: Error & { code?: number }) => e,
    );
    expect([huge?.code, huge?.message]).toEqual([-32600, expect.stringContaining("cbo mcp reads at most 4194304 bytes per message")]);
    expect(mcp.stderr()).toMatch(/a \d+-byte message was dropped/);
    expect((await call(mcp, "status", { worker: "hello" })).isError).toBeFalsy();
  });

  it("status answers with what each region runs", async () => {
    const r = await call(mcp, "status");
    expect(r.isError).toBeFalsy();
    const [summary, data] = texts(r);
    expect(summary).toContain("hello");
    const status = JSON.parse(data!) as {
      workers: Array<{ name: string; targets: Array<{ target: string; live: Array<{ versionId: string; percentage: number }> }> }>;
    };
    for (const reg of REGIONS) {
      expect(status.workers[0]!.targets.find((x) => x.target === reg)!.live).toEqual([
        expect.objectContaining({ versionId: versions.v2![reg], percentage: 100 }),
      ]);
    }
  });

  it("an unconfirmed rollback is refused, says what it would do, and changes nothing", async () => {
    const before = daemon.store.releases.list({ tenant: "default" }).length;
    const r = await call(mcp, "rollback", { worker: "hello" });
    expect(r.isError).toBe(true);
    const text = texts(r).join("\n");
    expect(text).toMatch(/^NOT DONE: rollback/);
    expect(text).toContain("confirm: true");
    expect(text).toContain(versions.v2!.eu!);
    // A misspelt confirmation is not a confirmation either.
    const typo = await call(mcp, "rollback", { worker: "hello", confirmed: true });
    expect(typo.isError).toBe(true);
    expect(daemon.store.releases.list({ tenant: "default" })).toHaveLength(before);
    expect(audit("rollback.create")).toEqual([]);
    for (const reg of REGIONS) expect(await servedTags(port(reg), "hello", 5)).toEqual(new Set(["v2"]));
  });

  it("an unconfirmed release answers with the plan and starts nothing", async () => {
    const before = daemon.store.releases.list({ tenant: "default" }).length;
    const r = await call(mcp, "release", { worker: "hello" });
    expect(r.isError).toBe(true);
    expect(texts(r)[0]).toMatch(/^NOT DONE: release[^]*Release hello in 2 wave\(s\): \[eu\] then \[us, ap\], steps 50% → 100%/);
    expect(daemon.store.releases.list({ tenant: "default" })).toHaveLength(before);
  });

  it("an unconfirmed secret rotation leaves the vault alone", async () => {
    const r = await call(mcp, "secret_rotate", { name: "WEBHOOK_KEY", generate_bytes: 32 });
    expect(r.isError).toBe(true);
    expect(texts(r)[0]).toContain("Would write version 2 of WEBHOOK_KEY");
    expect(daemon.security.vault.info("WEBHOOK_KEY").version).toBe(1);
  });

  it("a confirmed rollback puts every region back on the earlier version, on the record as the agent", async () => {
    const r = await call(mcp, "rollback", { worker: "hello", confirm: true });
    expect(texts(r)[0]).toMatch(/Rollback .* of hello ended: succeeded/);
    expect(r.isError).toBeFalsy();
    for (const reg of REGIONS) expect(await servedTags(port(reg), "hello", 10)).toEqual(new Set(["v1"]));
    const entries = audit("rollback.create");
    expect(entries.length).toBeGreaterThan(0);
    for (const e of entries) {
      expect(e.actor).toBe(`token:clawdbot:${agent.id}`);
      expect(e.details.via).toBe("mcp:rollback");
    }
    // The engine's own entries for the work it did are the engine's, not the agent's request's.
    const engine = daemon.security.audit.search({ actor: "engine", limit: 1000 });
    expect(engine.some((e) => e.action.startsWith("rollback.") || e.details.kind === "rollback")).toBe(true);
    for (const e of engine) expect(e.details.via).toBeUndefined();
  });

  it("a confirmed rotation reads the value from the file, stores it, and never shows it", async () => {
    const planted = `planted-${randomBytes(12).toString("hex")}`;
    // A file outside --secret-files is never read, whatever the agent is asked (the key below stays at 1).
    const outside = join(dir, "not-a-secret-file");
    writeFileSync(outside, `${planted}-outside`, { mode: 0o600 });
    const refused = await call(mcp, "secret_rotate", { name: "WEBHOOK_KEY", from_file: outside, confirm: true });
    expect(refused.isError).toBe(true);
    expect(texts(refused)[0]).toMatch(
      /^error ERR_FORBIDDEN: .* is outside .*incoming, the one directory this `cbo mcp` reads secret values from/,
    );
    const file = join(dir, "incoming", "new-webhook-key");
    writeFileSync(file, planted, { mode: 0o600 });
    const r = await call(mcp, "secret_rotate", { name: "WEBHOOK_KEY", from_file: file, confirm: true });
    expect(r.isError).toBeFalsy();
    expect(texts(r)[0]).toContain("WEBHOOK_KEY is now at version 2");
    expect(Buffer.from(daemon.security.vault.get("WEBHOOK_KEY", { by: "test" }).value).toString("utf8")).toBe(planted);
    const put = audit("secret.put").find((e) => e.target === "secret:WEBHOOK_KEY" && e.details.version === 2);
    expect(put).toMatchObject({ actor: `token:clawdbot:${agent.id}`, details: { version: 2, via: "mcp:secret_rotate" } });
    expect(JSON.stringify(r)).not.toContain(planted);
    expect(mcp.stderr()).not.toContain(planted);
    expect(JSON.stringify(refused)).not.toContain(planted);
    expect(JSON.stringify(daemon.security.audit.search({ limit: 1000 }))).not.toContain(planted);
  });

  it("audit_search: the agent's own token may search the record (it finds its own actions); a viewer's may not", async () => {
    const r = await call(mcp, "audit_search", { action: "rollback.create" });
    expect(r.isError).toBeFalsy();
    const entries = JSON.parse(texts(r)[1]!) as Array<{ actor: string }>;
    expect(entries.map((e) => e.actor)).toContain(`token:clawdbot:${agent.id}`);
    const viewer = await fetch(new URL("/v1/tokens", daemon.url), {
      method: "POST",
      headers: { authorization: `Bearer ${daemon.initialAdminToken}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "watcher", role: "viewer" }),
    }).then((x) => x.json() as Promise<{ token: string }>);
    const watcher = await connectMcp(daemon.url, viewer.token);
    try {
      const refused = await call(watcher, "audit_search", { action: "rollback.*" });
      expect(refused.isError).toBe(true);
      expect(texts(refused)[0]).toMatch(/^error ERR_FORBIDDEN: /);
    } finally {
      await watcher.close();
    }
  });

  it("refuses to start without the agent's own token, even beside a data directory holding the admin token", async () => {
    const run = await runCbo(["mcp", "--data", join(dir, "data")], { cwd: dir, timeoutMs: 20_000 });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("CBO_TOKEN");
    expect(run.stdout).toBe("");
  });
});
