// orchestrator.yaml edited into something the daemon refuses: the real daemon (startDaemon) on a
// real one-region local edge keeps the previous spec, and every answer to an authenticated request
// says so; the real `cbo` binary prints a warning line on stderr for every command (once), with the
// file and the reason, and `cbo plan` still plans with the previous spec. The public health route
// says only that the file is refused. Fixing the file ends it.
import { randomBytes } from "node:crypto";
import { readFileSync, utimesSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDaemon, type Daemon } from "../src/daemon.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { runCbo } from "./support/run-cbo.ts";

const SPEC = `version: 1
targets:
  - { name: eu, api: local }
workers:
  - name: hello
    main: hello.js
    compatibility_date: "2025-01-01"
`;
const WARNING = /^cbo: warning: the daemon refuses the spec file on disk and keeps using the previous one/m;

describe("a refused orchestrator.yaml, said by every CLI command", () => {
  let t: TestEdge;
  let dir: string;
  let daemon: Daemon;
  const file = () => join(dir, "orchestrator.yaml");
  const cbo = (args: string[]) => runCbo([...args, "--data", join(dir, "data")], { cwd: dir, timeoutMs: 30_000 });
  // A new mtime for each write, whatever the file system's granularity.
  let bump = 0;
  const write = (text: string) => {
    writeFileSync(file(), text);
    const at = new Date(Date.now() + ++bump * 2000);
    utimesSync(file(), at, at);
  };
  // The daemon looks at the file at most every 250 ms.
  const settle = () => new Promise((r) => setTimeout(r, 300));

  beforeAll(async () => {
    t = await startTestEdge({ regions: ["eu"] });
    dir = await makeTempDir("spec-refused");
    writeFileSync(join(dir, "hello.js"), "export default { fetch() { return new Response('hi'); } };\n");
    writeFileSync(file(), SPEC);
    daemon = await startDaemon({
      dataDir: join(dir, "data"),
      configFile: file(),
      edge: t.edge,
      port: 0,
      env: { CBO_MASTER_KEY: randomBytes(32).toString("base64") },
      log: () => {},
    });
  });
  afterAll(async () => {
    await daemon?.close();
    await t?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("says nothing while the file validates", async () => {
    const r = await cbo(["plan", "hello"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/hello/);
  });

  it("an edit that no longer validates: cbo plan plans with the previous spec and says the file is refused, and why", async () => {
    write(`${SPEC}  - name: second\n    main: [this is not a path\n`);
    await settle();
    const r = await cbo(["plan", "hello"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/hello/);
    expect(r.stderr).toMatch(WARNING);
    // The file and the parser's reason, on one line.
    expect(r.stderr).toContain(`${file()}: it does not validate:`);
    expect(r.stderr.match(WARNING)).toHaveLength(1);
  });

  it("every command says it, errors and --json too; status carries it; stdout stays JSON", async () => {
    const status = await cbo(["status", "--json"]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stderr.match(new RegExp(WARNING.source, "gm"))).toHaveLength(1);
    const body = JSON.parse(status.stdout) as {
      specRefused?: { file: string; reason: string; since: string };
      workers: Array<{ name: string }>;
    };
    expect(body.specRefused).toMatchObject({ file: file(), reason: expect.stringMatching(/^it does not validate: /) });
    // What status shows is the previous spec: one worker, not the refused file's two.
    expect(body.workers.map((w) => w.name)).toEqual(["hello"]);
    const missing = await cbo(["plan", "second", "--json"]);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout)).toMatchObject({ error: { code: "ERR_NOT_FOUND" } });
    expect(missing.stderr).toMatch(WARNING);
    for (const args of [
      ["versions", "hello"],
      ["events", "--limit", "1"],
      ["secrets", "list"],
    ]) {
      const r = await cbo(args);
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(0);
      expect(r.stderr, args.join(" ")).toMatch(WARNING);
    }
  });

  it("cbo release is refused while the file is refused (it would ship the code with the previous file's settings); nothing starts", async () => {
    const before = await cbo(["events", "--json", "--limit", "1000"]);
    const r = await cbo(["release", "hello"]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(WARNING);
    expect(r.stderr).toContain(`error ERR_CONFLICT: The daemon refuses ${file()} as it is on disk (it does not validate: `);
    expect(r.stderr).toContain(
      "with the previous file's settings.\nhint: Fix the file (npx cbo plan names the problem) and release again. A rollback works meanwhile.",
    );
    expect(daemon.store.releases.list({ tenant: "default", limit: 10 })).toEqual([]);
    expect((await cbo(["events", "--json", "--limit", "1000"])).stdout).toBe(before.stdout);
  });

  it("tells an unauthenticated caller only that there is a refusal, on the public health route", async () => {
    const health = await fetch(`${daemon.url}/v1/health`);
    expect(health.headers.get("cbo-spec-refused")).toBeNull();
    const text = await health.text();
    expect(JSON.parse(text)).toMatchObject({ ok: true, specRefused: true });
    expect(text).not.toContain(dir);
    const refused = await fetch(`${daemon.url}/v1/status`);
    expect(refused.status).toBe(401);
    expect(refused.headers.get("cbo-spec-refused")).toBeNull();
    const token = readFileSync(join(dir, "data", "admin-token"), "utf8").trim();
    const ok = await fetch(`${daemon.url}/v1/workers`, { headers: { authorization: `Bearer ${token}` } });
    expect(decodeURIComponent(ok.headers.get("cbo-spec-refused") ?? "")).toContain(`${file()}: it does not validate:`);
  });

  it("a fixed file is taken, and the warning stops", async () => {
    write(`${SPEC}  - name: second\n    main: hello.js\n    compatibility_date: "2025-01-01"\n`);
    await settle();
    const r = await cbo(["plan", "second"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    const health = (await (await fetch(`${daemon.url}/v1/health`)).json()) as { specRefused?: boolean };
    expect(health.specRefused).toBeUndefined();
  });

  it("a release asked for right after an edit is saved takes that edit (the daemon otherwise looks every 250 ms)", async () => {
    const token = readFileSync(join(dir, "data", "admin-token"), "utf8").trim();
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    // The daemon has just looked at the file (this answer), then the edit lands, then the release is asked for.
    expect((await fetch(`${daemon.url}/v1/status`, { headers })).status).toBe(200);
    write(`${SPEC}  - name: second\n    main: [this is not a path\n`);
    const res = await fetch(`${daemon.url}/v1/releases`, { method: "POST", headers, body: JSON.stringify({ worker: "hello" }) });
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain(`The daemon refuses ${file()} as it is on disk`);
    expect(daemon.store.releases.list({ tenant: "default", limit: 10 })).toEqual([]);
  });
});
