// Our client's R2 bucket calls against the real local edge: create with a location hint and
// storage class, per jurisdiction (the same name in `eu` is another bucket), get, list, delete,
// and the refusals (10006, 10073, 10005, 10008) as CboErrors; a Worker bound to an `eu` bucket
// writes into that bucket.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestEdge, type TestEdge } from "./support/edge.ts";
import { expectClassified, failure, recordingClient, summary, type RecordingClient } from "./support/cf-client.ts";
import { eventually, httpGet } from "./support/http.ts";

describe("Cloudflare client: R2", () => {
  let t: TestEdge;
  let c: RecordingClient;

  beforeAll(async () => {
    t = await startTestEdge({ regions: ["eu"] });
    c = recordingClient(t);
  });
  afterAll(async () => t?.dispose());

  it("create (location hint, storage class), get, list; a jurisdiction is its own namespace", async () => {
    const made = await c.cf.createR2Bucket("exports", { locationHint: "weur", storageClass: "InfrequentAccess" });
    expect(made).toMatchObject({ name: "exports", location: "WEUR", storage_class: "InfrequentAccess" });
    expect(await c.cf.getR2Bucket("exports")).toMatchObject({ name: "exports", storage_class: "InfrequentAccess" });
    // Not in `eu` until created there; then both exist.
    expect(await c.cf.getR2Bucket("exports", { jurisdiction: "eu" })).toBeNull();
    const eu = await c.cf.createR2Bucket("exports", { jurisdiction: "eu" });
    expect(eu).toMatchObject({ name: "exports", jurisdiction: "eu" });
    expect(await c.cf.getR2Bucket("exports", { jurisdiction: "eu" })).toMatchObject({ jurisdiction: "eu" });
    await c.cf.createR2Bucket("images");
    expect((await c.cf.listR2Buckets()).map((b) => b.name).sort()).toEqual(["exports", "images"]);
    expect((await c.cf.listR2Buckets({ jurisdiction: "eu" })).map((b) => b.name)).toEqual(["exports"]);
    expect((await c.cf.listR2Buckets({ nameContains: "ima" })).map((b) => b.name)).toEqual(["images"]);
    expect(await c.cf.listR2Buckets({ jurisdiction: "fedramp" })).toEqual([]);
  });

  it("refusals: 10073 for a taken name, 10005 for a bad one, 10006 for a missing bucket; none retryable", async () => {
    const taken = await failure(c.cf.createR2Bucket("exports"));
    expect(summary(taken)).toEqual({ code: "ERR_CF_REQUEST", retryable: false, status: 409, cf: 10073 });
    expect(taken.hint).toMatch(/already exists/);
    expect(summary(await failure(c.cf.createR2Bucket("Bad_Name")))).toEqual({
      code: "ERR_CF_REQUEST",
      retryable: false,
      status: 400,
      cf: 10005,
    });
    expect(summary(await failure(c.cf.deleteR2Bucket("nope")))).toEqual({
      code: "ERR_CF_REQUEST",
      retryable: false,
      status: 404,
      cf: 10006,
    });
    expect(summary(await failure(c.cf.deleteR2Bucket("images", { jurisdiction: "eu" })))).toMatchObject({ status: 404, cf: 10006 });
    expect(await c.cf.getR2Bucket("nope")).toBeNull();
  });

  it("a Worker bound to the eu bucket writes there; a bucket holding objects refuses deletion (10008) until emptied", async () => {
    const code = `export default { async fetch(req, env) {
      const url = new URL(req.url);
      if (url.pathname === "/put") { await env.FILES.put("report.txt", "q3"); return new Response("ok"); }
      if (url.pathname === "/clear") { await env.FILES.delete("report.txt"); return new Response("cleared"); }
      return new Response("?");
    } };`;
    await c.cf.deploy("r2-writer", {
      mainModule: "index.js",
      modules: [{ name: "index.js", content: code }],
      compatibilityDate: "2025-01-01",
      bindings: [{ type: "r2_bucket", name: "FILES", bucket_name: "exports", jurisdiction: "eu" }],
    });
    await eventually(async () => expect((await httpGet(t.region.port, "r2-writer.localhost", { path: "/put" })).body).toBe("ok"));
    const full = await failure(c.cf.deleteR2Bucket("exports", { jurisdiction: "eu" }));
    expect(summary(full)).toEqual({ code: "ERR_CF_REQUEST", retryable: false, status: 409, cf: 10008 });
    expect(full.hint).toMatch(/empty it/);
    // The default-jurisdiction bucket of the same name holds nothing: it deletes.
    await c.cf.deleteR2Bucket("exports");
    expect(await c.cf.getR2Bucket("exports")).toBeNull();
    expect((await httpGet(t.region.port, "r2-writer.localhost", { path: "/clear" })).body).toBe("cleared");
    await c.cf.deleteR2Bucket("exports", { jurisdiction: "eu" });
    expect(await c.cf.getR2Bucket("exports", { jurisdiction: "eu" })).toBeNull();
  });

  it("names every request's endpoint class", () => {
    expectClassified(c.endpoints, [
      "r2.buckets.create",
      "r2.buckets.get",
      "r2.buckets.list",
      "r2.buckets.delete",
      "workers.versions.create",
      "workers.scripts.put",
      "workers.deployments.list",
    ]);
  });
});
