// Our client's Durable Object calls against the real local edge: the migration tag as wrangler
// reads it (services GET, and the scripts list), migrations sent by a script PUT as
// migrationsToUpload decides them, the namespaces they create (a rename keeps the namespace and
// its objects), and the refusals: 10211 for a version upload carrying a migration, 10061 for a
// binding to a class no migration created, 10079 for a stale old_tag.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrationsToUpload, type WorkerUpload } from "../src/cloudflare/index.ts";
import type { Migration } from "../src/config/source/model.ts";
import { startTestEdge, type TestEdge } from "./support/edge.ts";
import { expectClassified, failure, recordingClient, summary, type RecordingClient } from "./support/cf-client.ts";
import { eventually, httpGet } from "./support/http.ts";

const code = (cls: string) => `
import { DurableObject } from "cloudflare:workers";
export class ${cls} extends DurableObject {
  async bump() { const n = ((await this.ctx.storage.get("n")) ?? 0) + 1; await this.ctx.storage.put("n", n); return n; }
}
export default { async fetch(req, env) { return Response.json({ n: await env.COUNTER.get(env.COUNTER.idFromName("one")).bump() }); } };`;

const upload = (cls: string, extra: Partial<WorkerUpload> = {}): WorkerUpload => ({
  mainModule: "index.js",
  modules: [{ name: "index.js", content: code(cls) }],
  compatibilityDate: "2025-01-01",
  bindings: [{ type: "durable_object_namespace", name: "COUNTER", class_name: cls }],
  ...extra,
});

const CONFIG: Migration[] = [
  { tag: "v1", new_sqlite_classes: ["Counter"] },
  { tag: "v2", renamed_classes: [{ from: "Counter", to: "Tally" }] },
];

describe("Cloudflare client: Durable Objects", () => {
  let t: TestEdge;
  let c: RecordingClient;
  const bump = async () => JSON.parse((await httpGet(t.region.port, "do-worker.localhost")).body) as { n: number };

  beforeAll(async () => {
    t = await startTestEdge({ regions: ["eu"] });
    c = recordingClient(t);
  });
  afterAll(async () => t?.dispose());

  it("no Worker yet: no service, no tag; a binding to an unmigrated class of its own is refused with 10061", async () => {
    expect(await c.cf.getWorkerService("do-worker")).toBeNull();
    expect(await c.cf.getMigrationTag("do-worker")).toBeNull();
    const e = await failure(c.cf.uploadScript("do-worker", upload("Counter")));
    expect(summary(e)).toEqual({ code: "ERR_CF_REQUEST", retryable: false, status: 400, cf: 10061 });
    expect(e.hint).toMatch(/migration/);
  });

  it("the first PUT carries every migration; the tag, the scripts list and the namespaces follow", async () => {
    const { migrations } = migrationsToUpload(CONFIG.slice(0, 1), await c.cf.getMigrationTag("do-worker"));
    expect(migrations).toEqual({ new_tag: "v1", steps: [{ new_sqlite_classes: ["Counter"] }] });
    const result = await c.cf.deploy("do-worker", upload("Counter", { migrations: migrations! }));
    expect(result.created).toBe(true); // a migration always goes through the PUT
    expect(await c.cf.getMigrationTag("do-worker")).toBe("v1");
    expect((await c.cf.listScripts()).find((s) => s.id === "do-worker")?.migration_tag).toBe("v1");
    const [ns] = await c.cf.listDurableObjectNamespaces();
    expect(ns).toMatchObject({ script: "do-worker", class: "Counter", use_sqlite: true, id: expect.any(String) });
    await eventually(async () => expect(await bump()).toEqual({ n: 1 }));
    expect(await bump()).toEqual({ n: 2 });
    // Nothing more to migrate at the last tag.
    expect(migrationsToUpload(CONFIG.slice(0, 1), "v1")).toEqual({});
  });

  it("a version upload carrying a migration is refused with 10211; a stale old_tag with 10079", async () => {
    const { migrations } = migrationsToUpload(CONFIG, "v1");
    const e = await failure(c.cf.uploadVersion("do-worker", upload("Tally", { migrations: migrations! })));
    expect(summary(e)).toEqual({ code: "ERR_CF_REQUEST", retryable: false, status: 400, cf: 10211 });
    expect(e.hint).toMatch(/script PUT/);
    const stale = await failure(c.cf.uploadScript("do-worker", upload("Tally", { migrations: { ...migrations!, old_tag: "v0" } })));
    expect(summary(stale)).toMatchObject({ code: "ERR_CF_REQUEST", retryable: false, status: 400, cf: 10079 });
    expect(await c.cf.getMigrationTag("do-worker")).toBe("v1");
  });

  it("the next migration (a rename) goes by a PUT from the current tag and keeps the namespace and its objects", async () => {
    const before = (await c.cf.listDurableObjectNamespaces())[0]!.id;
    const { migrations } = migrationsToUpload(CONFIG, await c.cf.getMigrationTag("do-worker"));
    expect(migrations).toEqual({ old_tag: "v1", new_tag: "v2", steps: [{ renamed_classes: [{ from: "Counter", to: "Tally" }] }] });
    await c.cf.deploy("do-worker", upload("Tally", { migrations: migrations! }));
    expect(await c.cf.getMigrationTag("do-worker")).toBe("v2");
    expect((await c.cf.getWorkerService("do-worker"))?.default_environment.script.migration_tag).toBe("v2");
    expect(await c.cf.listDurableObjectNamespaces()).toEqual([
      expect.objectContaining({ id: before, class: "Tally", script: "do-worker" }),
    ]);
    await eventually(async () => expect(await bump()).toEqual({ n: 3 }));
    // Without migrations, an existing Worker gets versions + a deployment.
    const plain = await c.cf.deploy("do-worker", upload("Tally"));
    expect(plain.created).toBe(false);
  });

  it("names every request's endpoint class", () => {
    expectClassified(c.endpoints, [
      "workers.services.get",
      "workers.scripts.put",
      "workers.scripts.list",
      "durable-objects.namespaces.list",
      "workers.versions.create",
      "workers.deployments.list",
      "workers.deployments.create",
    ]);
  });
});
