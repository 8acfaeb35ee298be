// Idempotency-Key against a real daemon on a real local edge: a retried POST /v1/releases starts
// one release (and is on the audit record once), the same key with another body is 422, a token's
// answer is never kept, a secret's value never reaches the key table, and the daemon client
// retries a mutation whose connection dropped before the answer with the same key, through a real
// TCP proxy that cuts the first answer off: one release.
import { writeFileSync } from "node:fs";
import { createServer, connect, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDaemonClient } from "../src/client/index.ts";
import type { Daemon } from "../src/daemon.ts";
import { startDaemonIn } from "./support/daemon-rig.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";

const SPEC = `version: 1
targets:
  - { name: eu, api: local }
  - { name: us, api: local }
rollout: { steps: [100], gate: { bake_ms: 0, min_samples: 1, interval_ms: 20 } }
workers:
  - { name: hello, main: hello.js }
  - { name: other, main: other.js }
`;

describe("Idempotency-Key on a real daemon", () => {
  let t: TestEdge;
  let d: Daemon;
  let token: string;
  const proxies: Server[] = [];

  const post = async (path: string, body: unknown, key?: string, method = "POST") => {
    const res = await fetch(new URL(path, d.url), {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
        ...(key === undefined ? {} : { "idempotency-key": key }),
      },
      body: JSON.stringify(body),
    });
    return { status: res.status, replayed: res.headers.get("idempotent-replayed"), text: await res.text() };
  };
  const releasesOf = (worker: string) => d.store.releases.list({ worker, limit: 1000 });
  const requested = (worker: string) =>
    d.security.audit
      .search({ action: "release.create", target: `worker:${worker}`, limit: 1000 })
      .filter((e) => e.details.stage === "requested");

  beforeAll(async () => {
    t = await startTestEdge({ regions: ["eu", "us"] });
    const dir = await makeTempDir("api-idempotency");
    writeFileSync(join(dir, "orchestrator.yaml"), SPEC);
    for (const w of ["hello", "other"]) writeFileSync(join(dir, `${w}.js`), `export default { fetch: () => new Response("${w}") };\n`);
    d = await startDaemonIn(dir, t.edge);
    token = d.initialAdminToken!;
  }, 60_000);
  afterAll(async () => {
    for (const p of proxies) p.close();
    await d?.close();
    await t?.dispose();
  });

  it("a retried POST /v1/releases with the same key starts one release, answered the same, audited once", async () => {
    const first = await post("/v1/releases", { worker: "hello" }, "retry-1");
    expect(first.status).toBe(202);
    expect(first.replayed).toBeNull();
    const again = await post("/v1/releases", { worker: "hello" }, "retry-1");
    expect(again).toEqual({ status: 202, replayed: "true", text: first.text });
    const id = (JSON.parse(first.text) as { id: string }).id;
    expect(releasesOf("hello").map((r) => r.id)).toEqual([id]);
    expect(requested("hello")).toHaveLength(1);
    expect(await d.engine.wait(id)).toMatchObject({ status: "succeeded" });
    // The same key for another request is refused; without a key a request always runs.
    const other = await post("/v1/releases", { worker: "other" }, "retry-1");
    expect(other.status).toBe(422);
    expect(JSON.parse(other.text).error.code).toBe("ERR_IDEMPOTENCY_MISMATCH");
    expect(releasesOf("other")).toHaveLength(0);
    const plain = await post("/v1/releases", { worker: "hello" });
    expect(plain.status).toBe(202);
    await d.engine.wait((JSON.parse(plain.text) as { id: string }).id);
    expect(releasesOf("hello")).toHaveLength(2);
  });

  it("two concurrent requests with one key start one release", async () => {
    const [a, b] = await Promise.all([
      post("/v1/releases", { worker: "other" }, "race-1"),
      post("/v1/releases", { worker: "other" }, "race-1"),
    ]);
    const started = releasesOf("other");
    expect(started).toHaveLength(1);
    for (const r of [a, b]) {
      // Either the one that ran, its replay, or "still in flight" (409): never a second release.
      if (r.status === 409) expect(JSON.parse(r.text).error.code).toBe("ERR_IDEMPOTENCY_IN_FLIGHT");
      else expect(JSON.parse(r.text).id).toBe(started[0]!.id);
    }
    await d.engine.wait(started[0]!.id);
  });

  it("never keeps a token or a secret value: a token's replay is refused, a secret's answer is metadata", async () => {
    const created = await post("/v1/tokens", { name: "ci", role: "viewer" }, "tok-1");
    expect(created.status).toBe(200);
    const shown = (JSON.parse(created.text) as { token: string }).token;
    const replay = await post("/v1/tokens", { name: "ci", role: "viewer" }, "tok-1");
    expect(replay.status).toBe(409);
    expect(replay.text).not.toContain(shown);
    expect(JSON.parse(replay.text).error.message).toMatch(/shown only once/);
    expect(d.store.tokens.list().filter((r) => r.name === "ci")).toHaveLength(1);

    const value = "planted-idempotency-secret-3e1f9a";
    const put = await post("/v1/secrets/IDEM_SECRET", { value }, "sec-1", "PUT");
    expect(put.status).toBe(200);
    const rows = JSON.stringify(d.store.db.prepare("SELECT * FROM idempotency_keys").all());
    expect(rows).not.toContain(shown);
    expect(rows).not.toContain(value);
    expect((await post("/v1/secrets/IDEM_SECRET", { value }, "sec-1", "PUT")).replayed).toBe("true");
    expect(d.security.vault.versions("IDEM_SECRET")).toHaveLength(1);
  });

  it("the daemon client retries a dropped mutation with the same key: one release", async () => {
    // A real TCP proxy that forwards the first connection's request to the daemon and then cuts the
    // connection before any answer reaches the client; later connections pass through.
    const target = new URL(d.url);
    let connections = 0;
    const keys: string[] = [];
    const proxy = createServer((client: Socket) => {
      const n = ++connections;
      const upstream = connect(Number(target.port), target.hostname);
      client.on("data", (chunk: Buffer) => {
        const m = /idempotency-key: ([^\r\n]+)/i.exec(chunk.toString("latin1"));
        if (m) keys.push(m[1]!);
        upstream.write(chunk);
      });
      if (n === 1) upstream.once("data", () => (client.destroy(), upstream.destroy()));
      else upstream.pipe(client);
      client.on("error", () => upstream.destroy());
      upstream.on("error", () => client.destroy());
    });
    proxies.push(proxy);
    await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
    const port = (proxy.address() as { port: number }).port;
    const client = createDaemonClient({ url: `http://127.0.0.1:${port}`, token });
    const before = releasesOf("hello").length;
    const release = await client.release("hello");
    expect(connections).toBeGreaterThanOrEqual(2);
    expect(new Set(keys).size).toBe(1);
    expect(releasesOf("hello").map((r) => r.id)).toEqual(expect.arrayContaining([release.id]));
    expect(releasesOf("hello")).toHaveLength(before + 1);
    await d.engine.wait(release.id);
  });
});
