// Issue 11, item 1, through a real release attempt: a real daemon whose data directory sits inside
// the project (as `cbo up` run in a project makes it), a real local edge, and Workers whose code
// tries to bundle the vault's master key, the admin token, /etc/passwd, a symlink out of the
// project, an absolute `main:` outside it, and the local edge's own state. Each release and plan is
// refused with ERR_BUNDLE_CONFINED naming the file; the edge receives no API call at all for them
// (no upload); a good Worker still releases; and no planted byte is found in the edge's files, the
// daemon's log, any API answer, the audit export or the event log.
import { readdirSync, readFileSync, statSync, symlinkSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDaemon, type Daemon } from "../src/daemon.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";

const OK_WORKER = `export default { fetch() { return new Response("good"); } };\n`;
const leak = (name: string, body: string) => `${body}\nexport default { fetch() { return new Response(JSON.stringify(${name})); } };\n`;

describe("a Worker cannot bundle files from outside its project or the daemon's own files", () => {
  let t: TestEdge;
  let dir: string;
  let outside: string;
  let data: string;
  let d: Daemon;
  const logs: string[] = [];
  const answers: Array<{ label: string; status: number; body: string }> = [];
  const planted: Record<string, string> = {};

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(new URL(path, d.url), {
      method,
      headers: { authorization: `Bearer ${d.initialAdminToken}`, ...(body ? { "content-type": "application/json" } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    answers.push({ label: `${method} ${path}`, status: res.status, body: text });
    let json: { error?: { code: string; message: string; details?: Record<string, unknown> }; id?: string } = {};
    try {
      json = JSON.parse(text);
    } catch {
      // JSON lines (the audit export)
    }
    return { status: res.status, text, json };
  };

  beforeAll(async () => {
    t = await startTestEdge({ regions: ["eu"] });
    dir = await makeTempDir("confine-e2e");
    outside = await makeTempDir("confine-outside");
    data = join(dir, ".cbo");
    planted.outside = `pl4nted-outside-${Date.now()}`;
    writeFileSync(join(outside, "secret.txt"), planted.outside);
    writeFileSync(join(outside, "worker.js"), leak("x", `const x = "${(planted.outsideMain = `pl4nted-main-${Date.now()}`)}";`));
    mkdirSync(join(dir, "evil"));
    mkdirSync(join(dir, "good"));
    writeFileSync(join(dir, "good", "index.js"), OK_WORKER);
    writeFileSync(join(dir, "evil", "key.js"), leak("mk", `import mk from "${join(data, "master.key")}" with { type: "text" };`));
    writeFileSync(join(dir, "evil", "exfil.js"), leak("tok", `import tok from "../.cbo/admin-token" with { type: "text" };`));
    writeFileSync(join(dir, "evil", "passwd.js"), leak("pw", `import pw from "/etc/passwd" with { type: "text" };`));
    symlinkSync(join(outside, "secret.txt"), join(dir, "evil", "notes.txt"));
    writeFileSync(join(dir, "evil", "link.js"), leak("n", `import n from "./notes.txt" with { type: "text" };`));
    symlinkSync(join(data, "admin-token"), join(dir, "evil", "readme.txt"));
    writeFileSync(join(dir, "evil", "link-token.js"), leak("n", `import n from "./readme.txt";`));
    writeFileSync(
      join(dir, "evil", "edge.js"),
      leak(
        "e",
        `import e from "${join(t.dataDir, "edge.sqlite")}" with { type: "bytes" };\nimport k from "${join(t.dataDir, "token")}" with { type: "text" };`,
      ),
    );
    const evil = {
      "evil-key": "evil/key.js",
      "evil-token": "evil/exfil.js",
      "evil-passwd": "evil/passwd.js",
      "evil-link": "evil/link.js",
      "evil-link-token": "evil/link-token.js",
      "evil-main": join(outside, "worker.js"),
      "evil-edge": "evil/edge.js",
    };
    writeFileSync(
      join(dir, "orchestrator.yaml"),
      `version: 1
targets:
  - { name: eu, api: local }
rollout:
  steps: [100]
  gate: { probe_path: /, interval_ms: 20, bake_ms: 100, min_samples: 2 }
workers:
  - { name: good, main: good/index.js }
${Object.entries(evil)
  .map(([name, main]) => `  - { name: ${name}, main: "${main}" }`)
  .join("\n")}
`,
    );
    d = await startDaemon({
      dataDir: data,
      configFile: join(dir, "orchestrator.yaml"),
      edge: t.edge,
      env: {},
      port: 0,
      monitorIntervalMs: 60_000,
      log: (l) => logs.push(l),
      fallbackMasterKeyFile: join(data, "master.key"),
      protectedPaths: [t.dataDir],
    });
    planted.masterKey = readFileSync(join(data, "master.key"), "utf8").trim();
    planted.adminToken = d.initialAdminToken!;
    planted.passwd = readFileSync("/etc/passwd", "utf8").split("\n")[0]!;
    planted.edgeToken = t.edge.token;
  }, 60_000);
  afterAll(async () => {
    await d?.close();
    await t?.dispose();
  });

  it("refuses every such release and plan with ERR_BUNDLE_CONFINED, and the edge gets no call for them", async () => {
    const before = t.edge.apiRequestCount();
    const expected: Record<string, { file: string; rule: string }> = {
      "evil-key": { file: join(data, "master.key"), rule: "protected" },
      "evil-token": { file: join(data, "admin-token"), rule: "protected" },
      "evil-passwd": { file: "/etc/passwd", rule: "outside-project" },
      "evil-link": { file: join(dir, "evil", "notes.txt"), rule: "outside-project" },
      "evil-link-token": { file: join(dir, "evil", "readme.txt"), rule: "protected" },
      "evil-main": { file: join(outside, "worker.js"), rule: "outside-project" },
      "evil-edge": { file: join(t.dataDir, "edge.sqlite"), rule: "protected" },
    };
    for (const [worker, want] of Object.entries(expected)) {
      const r = await api("POST", "/v1/releases", { worker });
      expect(r.status, `${worker}: ${r.text}`).toBe(400);
      expect(r.json.error?.code, worker).toBe("ERR_BUNDLE_CONFINED");
      expect(r.json.error?.message, worker).toContain(want.file);
      expect(r.json.error?.details, worker).toMatchObject({ worker, rule: want.rule });
      const plan = await api("GET", `/v1/workers/${worker}/plan`);
      expect(plan.status, `${worker} plan: ${plan.text}`).toBe(400);
      expect(plan.json.error?.code).toBe("ERR_BUNDLE_CONFINED");
    }
    // No upload, no read: a refused bundle never reaches the edge.
    expect(t.edge.apiRequestCount()).toBe(before);
    const scripts = await fetch(`${t.edge.apiUrl}/accounts/${t.region.accountId}/workers/scripts`, {
      headers: { authorization: `Bearer ${t.edge.token}` },
    }).then((r) => r.json() as Promise<{ result: Array<{ id: string }> }>);
    expect(scripts.result.map((s) => s.id)).toEqual([]);
    expect(d.store.releases.list({ limit: 100 })).toEqual([]);

    // The same daemon releases a Worker that stays in its project.
    const good = await api("POST", "/v1/releases", { worker: "good" });
    expect(good.status, good.text).toBe(202);
    expect((await d.engine.wait(good.json.id!)).status).toBe("succeeded");
  }, 60_000);

  it("no planted content in the edge's files, the daemon's log, any API answer, the audit export or the events", async () => {
    await api("GET", "/v1/audit/export");
    await api("GET", "/v1/events?limit=1000");
    await api("GET", "/v1/releases");
    const hits: string[] = [];
    const find = (where: string, text: string | Buffer) => {
      for (const [name, value] of Object.entries(planted)) {
        // The edge's token is in the edge's own token file, and the admin token is this test's credential.
        if (name === "edgeToken" && where.endsWith("/token")) continue;
        if (value && text.includes(value)) hits.push(`${name} in ${where}`);
      }
    };
    for (const f of readdirSync(t.dataDir, { recursive: true }).map(String)) {
      const p = join(t.dataDir, f);
      if (statSync(p).isFile()) find(`edge ${p}`, readFileSync(p));
    }
    for (const l of logs) find("daemon log", l);
    for (const a of answers) find(`answer to ${a.label}`, a.body);
    expect(answers.find((a) => a.label === "GET /v1/audit/export")!.body.split("\n").length).toBeGreaterThan(10);
    expect(hits).toEqual([]);
  });
});
