// An AI assistant's session with `cbo mcp`: the official SDK Client over stdio spawns the real
// `node bin/cbo.js mcp` against a real daemon on a real three-region local edge, and carries out
// what an operator asks ("what runs where", "release to 10% in eu, then go on", "why did the last
// release fail", "rotate the API key", "the audit trail since yesterday") with only what the tool
// list and the answers say. Every answer, progress message and log line of the session is kept and
// scanned at the end for the planted secret values and the tokens.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { LATEST_PROTOCOL_VERSION, type CallToolResult, type Progress } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Daemon } from "../src/daemon.ts";
import { MCP_TOOLS } from "../src/mcp/server.ts";
import { connectMcp, type McpSession, startMcpDaemon, texts } from "./support/mcp-client.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { edgeInfo, fleetYaml, liveOf, localRuntimes, versionSource, writeFleet, type Fleet } from "./support/orchestrator.ts";
import { CBO_BIN, cboEnv } from "./support/run-cbo.ts";

const REGIONS = ["eu", "us", "ap"];
const GATE = { probe_path: "/", interval_ms: 50, timeout_ms: 1000, failure_limit: 3, max_error_rate: 0.05, bake_ms: 200, min_samples: 3 };
const PLANTED = `planted-api-key-${randomBytes(12).toString("hex")}`;
/** A config value under a key that names a secret: the daemon masks it in diffs, so must every answer. */
const PLANTED_CONFIG = `planted-config-key-${randomBytes(12).toString("hex")}`;

/** Everything any session showed the assistant or logged: scanned for secrets at the end. */
const seen: string[] = [];

/** A session whose stderr joins `seen` when it closes. */
async function connect(url: string, token: string, secretFiles?: string): Promise<McpSession> {
  const session = await connectMcp(url, token, "assistant", secretFiles ? { secretFiles } : {});
  return {
    ...session,
    close: async () => {
      await session.close();
      seen.push(session.stderr());
    },
  };
}

async function call(
  s: McpSession,
  name: string,
  args: Record<string, unknown> = {},
  opts: { onprogress?: (p: Progress) => void; signal?: AbortSignal; timeout?: number; resetTimeoutOnProgress?: boolean } = {},
): Promise<CallToolResult> {
  const r = (await s.client.callTool({ name, arguments: args }, undefined, opts)) as CallToolResult;
  seen.push(JSON.stringify(r));
  return r;
}

describe("an assistant operating the fleet through cbo mcp (SDK client, stdio, real daemon and edge)", () => {
  let t: TestEdge;
  let dir: string;
  let fleet: Fleet;
  let daemon: Daemon;
  let agent: { id: string; token: string };
  let viewerToken: string;
  let mcp: McpSession;
  const daemonLog: string[] = [];
  const runtimes = () => localRuntimes(edgeInfo(t.edge), fleet.spec);
  const mint = async (name: string, role: string) => {
    const res = await fetch(`${daemon.url}/v1/tokens`, {
      method: "POST",
      headers: { authorization: `Bearer ${daemon.initialAdminToken}`, "content-type": "application/json" },
      body: JSON.stringify({ name, role }),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as { id: string; token: string };
  };
  const releaseCount = () => daemon.store.releases.list({ tenant: "default" }).length;

  beforeAll(async () => {
    t = await startTestEdge({ regions: REGIONS });
    dir = await makeTempDir("mcp-assistant");
    const yaml = fleetYaml({
      workers: ["hello", "gated", "slow", "cfg", "timed"],
      steps: [50, 100],
      waves: [["eu"], ["us", "ap"]],
      gate: GATE,
      perWorker: {
        hello: { secrets: ["API_KEY"], agent: false },
        // "release to 10% in eu, then go on": an approval step after 10%.
        gated: { rollout: { steps: [10, { pause: "approve" }, 100] } },
        // Long enough to follow with progress and to cancel the waiting in between.
        slow: { rollout: { steps: [10, 50, 100], gate: { ...GATE, bake_ms: 1500 } } },
        cfg: { config: { values: { bid: 1, api_key: PLANTED_CONFIG } } },
        // A timed pause: seconds without a journal step, longer than the client's request timeout below.
        timed: { rollout: { waves: [["eu", "us", "ap"]], steps: [10, { pause: "7s" }, 100] } },
      },
    });
    fleet = await writeFleet(dir, yaml, {
      hello: versionSource("v1"),
      gated: versionSource("g1"),
      slow: versionSource("s1"),
      cfg: versionSource("c1"),
      timed: versionSource("t1"),
    });
    daemon = await startMcpDaemon(dir, fleet.file, t.edge, (l: unknown) => daemonLog.push(typeof l === "string" ? l : JSON.stringify(l)));
    agent = await mint("clawdbot", "agent");
    viewerToken = (await mint("watcher", "viewer")).token;
    daemon.security.vault.put("API_KEY", PLANTED, { cas: 0, mode: "binding", by: "test" });
    // First deploys, side by side (each worker's own release).
    const first = await Promise.all(
      ["hello", "gated", "slow", "cfg", "timed"].map(async (w) => daemon.engine.wait((await daemon.engine.release(w, { by: "test" })).id)),
    );
    for (const r of first) expect(r.status, r.worker).toBe("succeeded");
    mkdirSync(join(dir, "incoming"));
    mcp = await connect(daemon.url, agent.token, join(dir, "incoming"));
  }, 120_000);

  afterAll(async () => {
    await mcp?.close();
    await daemon?.close();
    await t?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("tools/list: JSON Schema objects that refuse unknown keys, a description each, read-only and destructive hints", async () => {
    const { tools } = await mcp.client.listTools();
    expect(tools.map((x) => x.name).sort()).toEqual(MCP_TOOLS.map((x) => x.name).sort());
    for (const name of ["releases", "release_show", "versions", "secrets"]) expect(tools.map((x) => x.name)).toContain(name);
    for (const tool of tools) {
      expect(tool.inputSchema.type, tool.name).toBe("object");
      expect((tool.inputSchema as { additionalProperties?: unknown }).additionalProperties, tool.name).toBe(false);
      expect(tool.description!.length, tool.name).toBeGreaterThan(40);
      const mutating = MCP_TOOLS.find((x) => x.name === tool.name)!.mutating;
      expect(tool.annotations?.readOnlyHint, tool.name).toBe(!mutating);
      if (mutating) expect(tool.annotations?.destructiveHint, tool.name).toBe(true);
    }
    // The instructions name every tool, and say which jobs are the operator's (backups among them).
    const instructions = mcp.client.getInstructions() ?? "";
    for (const tool of tools) expect(instructions, tool.name).toMatch(new RegExp(`\\b${tool.name}\\b`));
    expect(instructions).toContain("cbo backup");
  });

  it('"what is deployed where": a compact answer with every target\'s full version id', async () => {
    const r = await call(mcp, "status");
    expect(r.isError).toBeFalsy();
    // A few hundred bytes per worker and target, not the stored plans of their last releases.
    const data = JSON.parse(texts(r)[1]!) as { workers: Array<{ name: string; targets: Array<{ target: string; live: unknown[] }> }> };
    expect(JSON.stringify(r).length).toBeLessThan(600 * data.workers.length * REGIONS.length);
    for (const reg of REGIONS) {
      const live = await liveOf(runtimes().get(reg)!, "hello");
      const target = data.workers.find((w) => w.name === "hello")!.targets.find((x) => x.target === reg)!;
      expect(target.live).toEqual(live);
      // Whole ids in the sentence too: the assistant copies them into rollback's `to`.
      expect(texts(r)[0]).toContain(`${reg}: ${live[0]!.versionId} 100%`);
    }
  });

  it('"why did the last release fail": the release answer, releases and release_show give the gate and the target', async () => {
    await fleet.setSource("hello", versionSource("v2-broken", { failRate: 1 }));
    const r = await call(mcp, "release", { worker: "hello", confirm: true, wait_seconds: 60 });
    expect(texts(r)[0]).toMatch(/ended: rolled_back \(gate failed on eu at 50%/);
    expect(JSON.stringify(r).length).toBeLessThan(3000);
    const list = await call(mcp, "releases", { worker: "hello", limit: 5 });
    const items = JSON.parse(texts(list)[1]!).items as Array<{ id: string; status: string; plan?: unknown }>;
    expect(items[0]).toMatchObject({ status: "rolled_back" });
    expect(items[0]!.plan).toBeUndefined();
    const shown = await call(mcp, "release_show", { release_id: items[0]!.id });
    expect(shown.isError).toBeFalsy();
    expect(texts(shown)[0]).toMatch(/gate\.failed eu 50%: 3 consecutive probes failed/);
    expect(texts(shown)[0]).toMatch(/rollback\.done eu/);
    expect(JSON.stringify(shown).length).toBeLessThan(8000);
    await fleet.setSource("hello", versionSource("v1"));
  });

  it('"something is failing, roll back" / "restore D1": the error of a wrong call says which argument to pass and which tool lists ids', async () => {
    // hello's newest release rolled back, the one before it was the first: nothing succeeded earlier.
    const r = await call(mcp, "rollback", { worker: "hello" });
    expect(r.isError).toBe(true);
    const text = texts(r).join("\n");
    expect(text).toMatch(/^error ERR_NOT_FOUND: /);
    expect(text).toContain("`to`");
    expect(text).toContain("versions tool");
    expect(text).not.toContain("--to");
    // "restore D1 to before release R", with a release id the user misremembered: the hint names the tools to find it.
    // A worker named as the user said it: refused by the input schema, in words that say what a name is and where to find one.
    const named = await call(mcp, "plan", { worker: "Hello World" });
    expect(named.isError).toBe(true);
    expect(texts(named)[0]).toMatch(
      /not a worker name: lowercase letters, digits and dashes, as in orchestrator\.yaml \(the status tool lists them\)/,
    );
    const d1 = await call(mcp, "d1_restore", { binding: "DB", target: "eu", release: "no-such-release" });
    expect(texts(d1)[0]).toMatch(/^error ERR_NOT_FOUND: No release no-such-release\.\nhint: The releases tool /);
    const versions = await call(mcp, "versions", { worker: "hello", limit: 10 });
    const page = JSON.parse(texts(versions)[1]!) as {
      items: Array<{ target: string; versionId: string; live: boolean; releaseId: string | null }>;
    };
    const live = page.items.find((v) => v.target === "eu" && v.live)!;
    expect(live.versionId).toBe((await liveOf(runtimes().get("eu")!, "hello"))[0]!.versionId);
    expect(texts(versions)[0]).toContain(`${live.versionId} LIVE`);
  });

  it('"release gated to 10% in eu, then go on": the answer comes back at the approval step, with progress; promote goes on', async () => {
    await fleet.setSource("gated", versionSource("g2"));
    const progress: Progress[] = [];
    const started = Date.now();
    const r = await call(mcp, "release", { worker: "gated", confirm: true, wait_seconds: 300 }, { onprogress: (p) => progress.push(p) });
    seen.push(JSON.stringify(progress));
    // It does not sit out wait_seconds while nothing can move without the user. (The bound is far
    // under 300 s and far over the release's own time on a loaded machine: 30 s failed once at load 10.)
    expect(Date.now() - started).toBeLessThan(150_000);
    expect(r.isError).toBeFalsy();
    expect(texts(r)[0]).toMatch(/is running and waits: eu waits for approval at 10%: release_control promote/);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.map((p) => p.progress)).toEqual([...progress.map((p) => p.progress)].sort((a, b) => a - b));
    expect(progress.some((p) => /step\.deployed eu 10%|gate\.passed eu 10%/.test(p.message ?? ""))).toBe(true);
    const eu = await liveOf(runtimes().get("eu")!, "gated");
    expect(eu.map((l) => l.percentage).sort((a, b) => a - b)).toEqual([10, 90]);
    const id = (JSON.parse(texts(r)[1]!) as { id: string }).id;

    const preview = await call(mcp, "release_control", { release_id: id, action: "promote" });
    expect(preview.isError).toBe(true);
    expect(texts(preview)[0]).toMatch(/^NOT DONE[^]*eu: approval at 10%/);
    // Promote lets eu go on; the second wave (us, ap) stops at its own approval step: the answer says so.
    const promoted = await call(mcp, "release_control", { release_id: id, action: "promote", confirm: true, wait_seconds: 50 });
    expect(promoted.isError).toBeFalsy();
    expect(texts(promoted)[0]).toMatch(
      /^promote done\. Release \S+ of gated is running and waits: (us|ap) waits for approval at 10%, (us|ap) waits/,
    );
    const last = await call(mcp, "release_control", { release_id: id, action: "promote", confirm: true, wait_seconds: 50 });
    expect(texts(last)[0]).toMatch(/^promote done\. Release \S+ of gated ended: succeeded/);
    for (const reg of REGIONS) expect((await liveOf(runtimes().get(reg)!, "gated")).map((l) => l.percentage)).toEqual([100]);
    // Asked again once it ended: said at once, not put to the user for a confirmation the daemon would refuse.
    const ended = await call(mcp, "release_control", { release_id: id, action: "pause" });
    expect(ended.isError).toBe(true);
    expect(texts(ended)[0]).toMatch(
      /^error ERR_CONFLICT: Release \S+ already ended \(succeeded\): there is nothing to pause\.\nhint: release_show /,
    );
  }, 240_000);

  it("cancelling a long release call stops the waiting (no more reads of it), not the release", async () => {
    await fleet.setSource("slow", versionSource("s2"));
    const ac = new AbortController();
    const progress: Progress[] = [];
    const pending = call(
      mcp,
      "release",
      { worker: "slow", confirm: true, wait_seconds: 120 },
      {
        signal: ac.signal,
        onprogress: (p) => {
          progress.push(p);
          ac.abort("the user changed their mind");
        },
      },
    );
    await expect(pending).rejects.toThrow();
    // The release goes on for seconds (three gated steps of 1.5 s): a server still following it
    // would go on reading it, as the daemon's access log shows (one line per request, by token name).
    await new Promise((res) => setTimeout(res, 500));
    const mark = daemonLog.length;
    await new Promise((res) => setTimeout(res, 3000));
    const reads = daemonLog.slice(mark).filter((l) => l.includes("/v1/releases/:id") && l.includes("clawdbot"));
    expect(reads).toEqual([]);
    expect(mcp.errors.map((e) => e.message)).toEqual([]);
    const [latest] = daemon.store.releases.list({ tenant: "default", worker: "slow" });
    expect(latest!.created_by).toBe("clawdbot");
    const done = await daemon.engine.wait(latest!.id);
    expect(done.status).toBe("succeeded");
  });

  it("a release longer than the client's request timeout: progress during a timed pause keeps the call alive", async () => {
    await fleet.setSource("timed", versionSource("t2"));
    const progress: Progress[] = [];
    // A 5 s request timeout, reset by each progress notification; the release pauses 7 s.
    const r = await call(
      mcp,
      "release",
      { worker: "timed", confirm: true, wait_seconds: 60 },
      { onprogress: (p) => progress.push(p), timeout: 5000, resetTimeoutOnProgress: true },
    );
    seen.push(JSON.stringify(progress));
    expect(texts(r)[0], JSON.stringify(progress)).toMatch(/^Release \S+ of timed ended: succeeded/);
    expect(
      progress.some((p) => /still running: .*\beu waits \(timer\) at 10% until /.test(p.message ?? "")),
      JSON.stringify(progress),
    ).toBe(true);
  });

  it('"rotate the API key secret for hello": secrets and plan name it, the rotation reads a file and shows no value', async () => {
    const list = await call(mcp, "secrets");
    expect(texts(list)[0]).toContain("API_KEY: version 1, binding");
    const plan = await call(mcp, "plan", { worker: "hello" });
    expect(texts(plan)[0]).toContain("secret API_KEY@1 (binding)");
    // The diff comes first, as in `cbo plan`: every target runs this already, so a release would end unchanged.
    expect(texts(plan)[0]).toMatch(/^Releasing hello would change nothing \(it would end unchanged\)\.\nRelease hello in 2 wave\(s\)/);
    const file = join(dir, "incoming", "new-api-key");
    writeFileSync(file, `${PLANTED}-v2`, { mode: 0o600 });
    const preview = await call(mcp, "secret_rotate", { name: "API_KEY", from_file: file });
    expect(texts(preview)[0]).toContain("Would write version 2 of API_KEY");
    const done = await call(mcp, "secret_rotate", { name: "API_KEY", from_file: file, confirm: true });
    expect(texts(done)[0]).toContain("API_KEY is now at version 2");
    const generated = await call(mcp, "secret_rotate", { name: "API_KEY", generate_bytes: 32, confirm: true, deliver: true });
    expect(texts(generated)[0]).toMatch(/API_KEY is now at version 3; delivering through release\(s\) \S+ \(hello\)/);
    const [delivery] = daemon.store.releases.list({ tenant: "default", worker: "hello" });
    expect((await daemon.engine.wait(delivery!.id)).status).toBe("succeeded");
    seen.push(
      await (await call(mcp, "release_show", { release_id: delivery!.id, journal_limit: 500 })).content
        .map((c) => JSON.stringify(c))
        .join(),
    );
  });

  it('"push this config change": the diff shows the keys that change (a secret-named one masked), publish needs confirm', async () => {
    const diff = await call(mcp, "config_diff", { worker: "cfg" });
    expect(diff.isError).toBeFalsy();
    expect(texts(diff)[0]).toMatch(/differs from the published one on eu, us, ap/);
    expect(texts(diff)[0]).toContain("eu: bid: (none) -> 1");
    expect(texts(diff)[0]).toMatch(/eu: api_key: .* \(masked: the key names a secret\)/);
    const preview = await call(mcp, "config_publish", { worker: "cfg" });
    expect(preview.isError).toBe(true);
    expect(texts(preview)[0]).toMatch(/^NOT DONE[^]*Would sign and publish the changed config on eu, us, ap for cfg/);
    expect(daemon.security.audit.search({ action: "config.publish", limit: 10 })).toEqual([]);
    const published = await call(mcp, "config_publish", { worker: "cfg", confirm: true });
    expect(published.isError).toBeFalsy();
    expect(texts(published)[0]).toBe("Published config version 1 of cfg to eu, us, ap.");
    // The other reads of the worker go through the secret scan at the end too.
    for (const tool of ["plan", "diff", "versions"]) expect((await call(mcp, tool, { worker: "cfg" })).isError, tool).toBeFalsy();
    const after = await call(mcp, "config_diff", { worker: "cfg" });
    expect(texts(after)[0]).toBe("Config of cfg is published as desired on every target.");
    expect(daemon.security.audit.search({ action: "config.publish", limit: 10 })[0]).toMatchObject({
      actor: `token:clawdbot:${agent.id}`,
    });
  });

  it('"the audit trail since yesterday": compact entries, the agent\'s own actions among them, a cursor for more', async () => {
    const yesterday = new Date(Date.now() - 86_400_000).toISOString();
    const r = await call(mcp, "audit_search", { since: yesterday, limit: 5 });
    expect(r.isError).toBeFalsy();
    const entries = JSON.parse(texts(r)[1]!) as Array<Record<string, unknown>>;
    expect(entries).toHaveLength(5);
    for (const e of entries) expect(e.hash).toBeUndefined();
    expect(texts(r)[0]).toMatch(/cursor "[^"]+"/);
    const cursor = /cursor "([^"]+)"/.exec(texts(r)[0]!)![1]!;
    const older = await call(mcp, "audit_search", { since: yesterday, limit: 5, cursor });
    const next = JSON.parse(texts(older)[1]!) as Array<{ seq: number }>;
    expect(next[0]!.seq).toBeLessThan(entries.at(-1)!.seq as number);
    const mine = await call(mcp, "audit_search", { actor: `token:clawdbot:${agent.id}`, action: "secret.*" });
    expect(JSON.parse(texts(mine)[1]!).length).toBeGreaterThan(0);
    // A date the way people say it is refused with what to send instead.
    const wrong = await call(mcp, "audit_search", { since: "yesterday" });
    expect(wrong.isError).toBe(true);
    expect(texts(wrong)[0]).toMatch(/since/);
  });

  it("a viewer token's session reads but cannot run a mutating tool, even with confirm: true", async () => {
    const viewer = await connect(daemon.url, viewerToken);
    try {
      expect((await call(viewer, "status")).isError).toBeFalsy();
      const before = releaseCount();
      const version = daemon.security.vault.info("API_KEY").version;
      const attempts: Array<[string, Record<string, unknown>]> = [
        ["release", { worker: "hello", confirm: true, force: true }],
        ["rollback", { worker: "gated", confirm: true }],
        ["secret_rotate", { name: "API_KEY", generate_bytes: 32, confirm: true }],
      ];
      for (const [name, args] of attempts) {
        const r = await call(viewer, name, args);
        expect(r.isError, name).toBe(true);
        expect(texts(r)[0], name).toMatch(/^error ERR_FORBIDDEN: A viewer token may not do this/);
      }
      expect(releaseCount()).toBe(before);
      expect(daemon.security.vault.info("API_KEY").version).toBe(version);
    } finally {
      await viewer.close();
    }
  });

  it("negotiates the protocol version: an older one the server speaks is kept, an unknown one answered with the latest", async () => {
    const init = async (protocolVersion: string) => {
      const child = spawn(process.execPath, [CBO_BIN, "mcp", "--url", daemon.url], {
        env: cboEnv({ CBO_TOKEN: agent.token }),
        stdio: ["pipe", "pipe", "pipe"],
      });
      try {
        const answer = new Promise<{ result: { protocolVersion: string } }>((resolve) => {
          let buf = "";
          child.stdout.on("data", (c: Buffer) => {
            buf += c.toString("utf8");
            if (buf.includes("\n")) resolve(JSON.parse(buf.slice(0, buf.indexOf("\n"))));
          });
        });
        const params = { protocolVersion, capabilities: {}, clientInfo: { name: "old-client", version: "0" } };
        child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params })}\n`);
        return (await answer).result.protocolVersion;
      } finally {
        child.kill();
      }
    };
    expect(await init("2025-03-26")).toBe("2025-03-26");
    expect(await init("1999-01-01")).toBe(LATEST_PROTOCOL_VERSION);
  });

  it("started with an admin token: the warning's way out is a command that runs as printed (npx cbo when cbo is not on PATH)", async () => {
    const child = spawn(process.execPath, [CBO_BIN, "mcp", "--url", daemon.url], {
      env: cboEnv({ CBO_TOKEN: daemon.initialAdminToken }),
      stdio: ["pipe", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString("utf8");
    });
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.stdin.end();
    await exited;
    expect(stderr).toContain("this is an admin token");
    expect(stderr).toContain("Give the agent its own: npx cbo tokens create --name clawdbot --role agent");
  });

  it("no answer, progress message or log line of any session held a secret value or a token", () => {
    const generated = Buffer.from(daemon.security.vault.get("API_KEY", { by: "test" }).value).toString("utf8");
    expect(generated).not.toContain(PLANTED);
    const all = [...seen, mcp.stderr(), ...daemonLog].join("\n");
    expect(seen.length).toBeGreaterThan(20);
    const secrets = {
      "the planted API key": PLANTED,
      "the rotated one": `${PLANTED}-v2`,
      "the generated one": generated,
      "the generated one in base64": Buffer.from(generated).toString("base64"),
      "the secret-named config value": PLANTED_CONFIG,
      "the agent token": agent.token,
      "the viewer token": viewerToken,
    };
    for (const [what, secret] of Object.entries(secrets)) expect(all.includes(secret), what).toBe(false);
  });
});
