// Concurrency around a stateful release that pins secrets, on the real daemon (its API, vault and
// engine) and a real two-region local edge: while the release of a Worker with a D1 migration and
// a binding secret is in its first wave, (1) a second release of the same worker is refused
// (ERR_CONFLICT naming the running one), and (2) the secret is rotated. Every target of the release
// still gets the version its plan pinned (the canary target and the later one alike, so traffic
// never mixes two secret versions within one release), the migration ran once per target, the
// audit chain verifies, and the next release ships the rotated version.
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Daemon } from "../src/daemon.ts";
import { startDaemonIn } from "./support/daemon-rig.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { httpGet } from "./support/http.ts";
import { runCbo } from "./support/run-cbo.ts";

const sha = (v: string) => createHash("sha256").update(v).digest("hex");
const VALUES = [1, 2, 3].map((i) => `key-v${i}-${randomBytes(8).toString("hex")}`);

const SPEC = `version: 1
targets:
  - { name: eu, api: local }
  - { name: us, api: local }
rollout:
  waves: [[eu], [us]]
  steps: [100]
  gate: { probe_path: /health, bake_ms: 1500, min_samples: 2, interval_ms: 30 }
workers:
  - name: pinned
    main: pinned.js
    secrets: [KEY]
    d1: { DB: { name: pinned, migrations_dir: migrations } }
`;
const WORKER = `
const sha = async (v) => [...new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(v)))].map((b) => b.toString(16).padStart(2, "0")).join("");
export default {
  async fetch(req, env) {
    if (new URL(req.url).pathname === "/health") return new Response("ok");
    const { results } = await env.DB.prepare("SELECT name FROM applied_log").all();
    return Response.json({ key: await sha(env.KEY), log: results.map((r) => r.name) });
  },
};
`;

describe("a secret rotated and a second release asked for during a stateful release", () => {
  let t: TestEdge;
  let dir: string;
  let d: Daemon;
  let token: string;

  async function api<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
    const res = await fetch(new URL(path, d.url), {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, json: (await res.json()) as T };
  }
  const put = async (value: string) => expect((await api("PUT", "/v1/secrets/KEY", { value, mode: "binding" })).status).toBe(200);
  const settle = async (id: string) => d.engine.wait(id);
  const seen = async (region: string) =>
    JSON.parse((await httpGet(t.edge.region(region).port, "pinned.localhost", { path: "/" })).body) as { key: string; log: string[] };

  beforeAll(async () => {
    t = await startTestEdge({ regions: ["eu", "us"] });
    dir = await makeTempDir("secret-rotation");
    writeFileSync(join(dir, "orchestrator.yaml"), SPEC);
    writeFileSync(join(dir, "pinned.js"), WORKER);
    mkdirSync(join(dir, "migrations"));
    writeFileSync(
      join(dir, "migrations", "001_log.sql"),
      "CREATE TABLE applied_log (name TEXT);\nINSERT INTO applied_log VALUES ('001_log.sql');\n",
    );
    d = await startDaemonIn(dir, t.edge);
    token = d.initialAdminToken!;
    await put(VALUES[0]!);
    const first = await api<{ id: string }>("POST", "/v1/releases", { worker: "pinned" });
    expect(first.status).toBe(202);
    expect((await settle(first.json.id)).status).toBe("succeeded");
  }, 120_000);
  afterAll(async () => {
    await d?.close();
    await t?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("every target gets the pinned version, a second release is refused, the migration runs once per target", {
    timeout: 120_000,
  }, async () => {
    await put(VALUES[1]!);
    writeFileSync(join(dir, "migrations", "002_more.sql"), "INSERT INTO applied_log VALUES ('002_more.sql');\n");
    const started = await api<{ id: string }>("POST", "/v1/releases", { worker: "pinned" });
    expect(started.status).toBe(202);
    const id = started.json.id;
    // In eu's gate (its version uploaded, us not reached yet): a second release, then a rotation.
    for (let i = 0; i < 400; i++) {
      if (d.store.releases.entries(id).some((e) => e.kind === "uploaded" && e.target === "eu")) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(d.store.releases.entries(id).some((e) => e.target === "us")).toBe(false);
    const second = await api<{ error: { code: string; message: string } }>("POST", "/v1/releases", { worker: "pinned" });
    expect(second.status).toBe(409);
    expect(second.json.error.code).toBe("ERR_CONFLICT");
    expect(second.json.error.message).toContain(id);
    await put(VALUES[2]!);
    const r = await settle(id);
    expect(r.status, r.reason ?? "").toBe("succeeded");
    for (const region of ["eu", "us"]) {
      const now = await seen(region);
      expect(now.key, `${region} serves the pinned KEY v2`).toBe(sha(VALUES[1]!));
      expect(now.log.sort()).toEqual(["001_log.sql", "002_more.sql"]);
    }
    // The next release ships the rotated version, and applies nothing again.
    const next = await api<{ id: string }>("POST", "/v1/releases", { worker: "pinned" });
    expect((await settle(next.json.id)).status).toBe("succeeded");
    for (const region of ["eu", "us"]) {
      const now = await seen(region);
      expect(now.key).toBe(sha(VALUES[2]!));
      expect(now.log.sort()).toEqual(["001_log.sql", "002_more.sql"]);
    }
    const verify = await runCbo(["audit", "verify", "--data", join(dir, "data")], { cwd: dir });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });
});
