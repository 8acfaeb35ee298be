// A version upload carrying every binding kind a WorkerSource has (bindingsMetadata, with the
// target's own resource ids found or created through the client) and modules of every type
// (ESM, CommonJS, text, data, compiled wasm, a source map part), against the real local edge:
// the version lists each binding as sent, and the Worker, running in workerd, uses every one.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bindingsMetadata, uploadSettingsFromSource, type WorkerUpload } from "../src/cloudflare/index.ts";
import type { Resource, WorkerBinding } from "../src/config/source/model.ts";
import { startTestEdge, type TestEdge } from "./support/edge.ts";
import { expectClassified, recordingClient, type RecordingClient } from "./support/cf-client.ts";
import { eventually, httpGet } from "./support/http.ts";

const res = (kind: Resource["kind"], name: string, more: Partial<Resource> = {}): Resource => ({
  kind,
  name,
  nameFrom: "wrangler",
  ...more,
});
/** (module (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)) */
const ADD_WASM = Buffer.from("0061736d0100000001070160027f7f017f030201000707010361646400000a09010700200020016a0b", "hex");

const MAIN = `
import { DurableObject } from "cloudflare:workers";
import legacy from "./lib/legacy.cjs";
import words from "./words.txt";
import blob from "./blob.bin";
import addModule from "./add.wasm";
export class Counter extends DurableObject {
  async bump() { const n = ((await this.ctx.storage.get("n")) ?? 0) + 1; await this.ctx.storage.put("n", n); return n; }
}
const attempt = async (f) => { try { return await f(); } catch (e) { return "error: " + e.message; } };
export default {
  async fetch(req, env) {
    const add = (await WebAssembly.instantiate(addModule)).exports.add;
    await env.CACHE.put("k", "kv-value");
    await env.FILES.put("o.txt", "r2-value");
    await env.JOBS.send({ hello: 1 });
    const rl = await env.RL.limit({ key: "x" });
    env.AE.writeDataPoint({ blobs: ["b"], doubles: [1] });
    return Response.json({
      modules: { legacy, words, blob: [...new Uint8Array(blob)], add: add(2, 3) },
      vars: { greeting: env.GREETING, limits: env.LIMITS, token: env.TOKEN },
      kv: await env.CACHE.get("k"),
      d1: (await env.DB.prepare("SELECT 40 + 2 AS n").first()).n,
      r2: await (await env.FILES.get("o.txt")).text(),
      do: await env.COUNTER.get(env.COUNTER.idFromName("a")).bump(),
      svc: await env.SVC.double(21),
      rl: rl.success,
      vm: typeof env.VM.id,
      assets: typeof env.ASSETS.fetch,
      ai: await attempt(() => env.AI.run("m", {})),
      hd: await attempt(() => env.HD.connect()),
    });
  },
};`;

const BILLING = `
import { WorkerEntrypoint } from "cloudflare:workers";
export class Admin extends WorkerEntrypoint { async double(x) { return x * 2; } }
export default { fetch() { return new Response("billing"); } };`;

describe("Cloudflare client: a version upload with every binding kind and module type", () => {
  let t: TestEdge;
  let c: RecordingClient;

  beforeAll(async () => {
    t = await startTestEdge({ regions: ["eu"] });
    c = recordingClient(t);
  });
  afterAll(async () => t?.dispose());

  it("uploads with the target's resource ids and every binding works in the Worker", async () => {
    // The target's resources, found or created by name as a release would.
    const kv = await c.cf.createKvNamespace("api-cache");
    const db = await c.cf.createD1Database("main-db");
    await c.cf.createR2Bucket("exports", { jurisdiction: "eu" });
    await c.cf.createQueue("jobs");
    await c.cf.deploy("billing", {
      mainModule: "index.js",
      modules: [{ name: "index.js", content: BILLING }],
      compatibilityDate: "2025-01-01",
    });

    const bindings: WorkerBinding[] = [
      { kind: "kv", binding: "CACHE", resource: res("kv", "api-cache") },
      { kind: "d1", binding: "DB", resource: res("d1", "main-db"), migrations: { dir: "/unused", table: "d1_migrations" } },
      { kind: "r2", binding: "FILES", resource: res("r2", "exports", { jurisdiction: "eu" }) },
      { kind: "queue", binding: "JOBS", resource: res("queue", "jobs"), deliveryDelay: 0 },
      { kind: "durable_object", binding: "COUNTER", className: "Counter" },
      { kind: "service", binding: "SVC", service: "billing", entrypoint: "Admin" },
      { kind: "analytics_engine", binding: "AE", dataset: "events" },
      { kind: "ai", binding: "AI" },
      { kind: "hyperdrive", binding: "HD", id: "0123456789abcdef0123456789abcdef" },
      { kind: "ratelimit", binding: "RL", namespaceId: "1001", simple: { limit: 10, period: 60 } },
      { kind: "version_metadata", binding: "VM" },
      { kind: "assets", binding: "ASSETS" },
    ];
    const metadataBindings = bindingsMetadata({
      vars: { GREETING: "hi", LIMITS: { max: 3 } },
      secrets: { TOKEN: "s3cret" },
      bindings,
      ids: { kv: { "api-cache": kv.id }, d1: { "main-db": db.uuid } },
    });
    const upload: WorkerUpload = {
      mainModule: "index.js",
      modules: [
        { name: "index.js", content: MAIN, type: "esm" },
        { name: "lib/legacy.cjs", content: "module.exports = { from: 'commonjs' };", type: "commonjs" },
        { name: "words.txt", content: "some words", type: "text" },
        { name: "blob.bin", content: new Uint8Array([1, 2, 255]), type: "buffer" },
        { name: "add.wasm", content: ADD_WASM, type: "compiled-wasm" },
        { name: "index.js.map", content: JSON.stringify({ version: 3, sources: ["src/index.ts"], mappings: "" }), type: "sourcemap" },
      ],
      compatibilityDate: "2025-01-01",
      bindings: metadataBindings,
      migrations: { new_tag: "v1", steps: [{ new_sqlite_classes: ["Counter"] }] },
      ...uploadSettingsFromSource({
        keepVars: false,
        placement: { mode: "smart" },
        limits: { cpuMs: 100 },
        observability: { enabled: true },
      }),
      annotations: { "workers/message": "every kind", "workers/tag": "t1" },
    };
    const put = await c.cf.uploadScript("probe", upload);
    const version = await c.cf.getVersion("probe", put.deployment_id!);
    // Stored as sent, secrets without their text.
    expect(version.resources?.bindings).toEqual(
      metadataBindings.map((b) => (b.type === "secret_text" ? { type: b.type, name: b.name } : b)),
    );
    expect(version.annotations).toMatchObject({ "workers/message": "every kind", "workers/tag": "t1" });
    expect(await c.cf.getVersionSettings("probe")).toMatchObject({ placement: { mode: "smart" }, limits: { cpu_ms: 100 } });

    const out = await eventually(async () => {
      const r = await httpGet(t.region.port, "probe.localhost");
      expect(r.status, r.body).toBe(200);
      return JSON.parse(r.body) as Record<string, unknown>;
    }, 15_000);
    expect(out).toMatchObject({
      modules: { legacy: { from: "commonjs" }, words: "some words", blob: [1, 2, 255], add: 5 },
      vars: { greeting: "hi", limits: { max: 3 }, token: "s3cret" },
      kv: "kv-value",
      d1: 42,
      r2: "r2-value",
      do: 1,
      svc: 42,
      rl: true,
      vm: "string",
      assets: "function",
    });
    expect(out.ai).toMatch(/^error: .*Workers AI/);
    expect(out.hd).toMatch(/^error: .*Hyperdrive/);
    // What the Worker wrote through its bindings is where the client finds it.
    expect(await c.cf.getKvText(kv.id, "k")).toBe("kv-value");
    expect((await c.cf.queryD1(db.uuid, "SELECT 1 AS one"))[0]!.results).toEqual([{ one: 1 }]);
  });

  it("names every request's endpoint class", () => {
    expectClassified(c.endpoints, [
      "kv.namespaces.create",
      "kv.values.get",
      "d1.databases.create",
      "d1.query",
      "r2.buckets.create",
      "queues.create",
      "workers.versions.create",
      "workers.scripts.put",
      "workers.deployments.list",
      "workers.versions.get",
      "workers.settings.get",
    ]);
  });
});
