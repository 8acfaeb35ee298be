// Static assets on the local edge, through the Cloudflare API and real workerd: upload sessions
// that ask only for what the account lacks, the bulk upload authorised by the session's JWT, the
// completion token in the version, and serving (html_handling, not_found_handling,
// run_worker_first, the ASSETS binding, ETags), per version, so a rollback serves its own assets.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestEdge, type TestEdge } from "./support/edge.ts";
import { edgeApi, type EdgeApi } from "./support/edge-api.ts";
import { httpGet } from "./support/http.ts";

type Files = Record<string, { body: string; type: string }>;
/** A stand-in for wrangler's blake3 content hash: any 32-hex hash of the content serves the protocol. */
const hashOf = (f: { body: string; type: string }) =>
  createHash("sha256")
    .update(f.body + f.type)
    .digest("hex")
    .slice(0, 32);
const manifestOf = (files: Files) =>
  Object.fromEntries(Object.entries(files).map(([p, f]) => [p, { hash: hashOf(f), size: f.body.length }]));

const SITE: Files = {
  "/index.html": { body: "<h1>home</h1>", type: "text/html; charset=utf-8" },
  "/about.html": { body: "<h1>about</h1>", type: "text/html; charset=utf-8" },
  "/docs/index.html": { body: "<h1>docs</h1>", type: "text/html; charset=utf-8" },
  "/404.html": { body: "<h1>lost</h1>", type: "text/html; charset=utf-8" },
  "/app.js": { body: "console.log(1)", type: "application/javascript" },
};

const WORKER = `export default { async fetch(req, env) {
  const u = new URL(req.url);
  if (u.pathname.endsWith("/via-binding")) return env.ASSETS.fetch(new URL("/about", req.url));
  return new Response("worker:" + u.pathname, { status: 200 });
} };`;

/** What the edge answers for an assets upload session: the completion JWT and the hashes to send, in buckets. */
type UploadSession = { jwt: string; buckets: string[][] };
type Versions = { items: Array<{ id: string }> };

describe("static assets on the local edge", () => {
  let t: TestEdge;
  let api: EdgeApi;
  const get = (path: string, host = "site.localhost", headers: Record<string, string> = {}) =>
    httpGet(t.region.port, host, { path, headers });

  /** The whole wrangler flow: session, buckets, completion token. Answers the token and how many files went up. */
  async function uploadAssets(script: string, files: Files): Promise<{ jwt: string; uploaded: number }> {
    const session = await api.ok<UploadSession>("POST", `/workers/scripts/${script}/assets-upload-session`, {
      manifest: manifestOf(files),
    });
    if (session.buckets.length === 0) return { jwt: session.jwt, uploaded: 0 };
    const byHash = new Map(Object.values(files).map((f) => [hashOf(f), f]));
    let completion = "";
    let uploaded = 0;
    for (const bucket of session.buckets) {
      const form = new FormData();
      for (const h of bucket)
        form.set(h, new File([Buffer.from(byHash.get(h)!.body).toString("base64")], h, { type: byHash.get(h)!.type }));
      uploaded += bucket.length;
      const r = await api.call<{ jwt?: string } | null>("POST", "/workers/assets/upload?base64=true", form, {
        authorization: `Bearer ${session.jwt}`,
      });
      expect(r.success, JSON.stringify(r.errors)).toBe(true);
      if (r.result?.jwt) completion = r.result.jwt;
    }
    expect(completion).not.toBe("");
    return { jwt: completion, uploaded };
  }

  beforeAll(async () => {
    t = await startTestEdge();
    api = edgeApi(t.edge, t.region);
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it("asks for every new file, then for none once the account holds them", async () => {
    const first = await uploadAssets("site", SITE);
    expect(first.uploaded).toBe(5);
    const again = await api.ok<UploadSession>("POST", "/workers/scripts/other/assets-upload-session", { manifest: manifestOf(SITE) });
    expect(again.buckets).toEqual([]);
    expect(again.jwt.split(".")).toHaveLength(3);
    const changed = await api.ok<UploadSession>("POST", "/workers/scripts/site/assets-upload-session", {
      manifest: manifestOf({ ...SITE, "/app.js": { body: "console.log(2)", type: "application/javascript" } }),
    });
    expect(changed.buckets.flat()).toEqual([hashOf({ body: "console.log(2)", type: "application/javascript" })]);
  });

  it("takes uploads only with the session's JWT, and only hashes of its manifest", async () => {
    const files = { "/x.txt": { body: "x", type: "text/plain" } };
    const session = await api.ok<UploadSession>("POST", "/workers/scripts/site/assets-upload-session", { manifest: manifestOf(files) });
    const form = () => {
      const f = new FormData();
      f.set(hashOf(files["/x.txt"]), new File([Buffer.from("x").toString("base64")], "x", { type: "text/plain" }));
      return f;
    };
    const noJwt = await fetch(`${t.edge.apiUrl}/accounts/${t.region.accountId}/workers/assets/upload?base64=true`, {
      method: "POST",
      body: form(),
    });
    expect(noJwt.status).toBe(401);
    const apiToken = await api.call("POST", "/workers/assets/upload?base64=true", form());
    expect(apiToken.status).toBe(401);
    const stranger = new FormData();
    stranger.set("f".repeat(32), new File(["eA=="], "f", { type: "text/plain" }));
    expect(
      (await api.call("POST", "/workers/assets/upload?base64=true", stranger, { authorization: `Bearer ${session.jwt}` })).status,
    ).toBe(400);
    const bad = await api.call("POST", "/workers/scripts/site/assets-upload-session", {
      manifest: { "no-slash": { hash: "zz", size: 1 } },
    });
    expect(bad.status).toBe(400);
  });

  it("refuses a version whose assets token is not a completion token of this account (10021)", async () => {
    const r = await api.call(
      "PUT",
      "/workers/scripts/site",
      api.upload({ main_module: "index.js", compatibility_date: "2025-01-01", assets: { jwt: "not.a.token" } }, { "index.js": WORKER }),
    );
    expect(r.errors[0]!.code).toBe(10021);
  });

  it("serves assets with html_handling, 404-page, ETags, and the Worker for the rest", async () => {
    const { jwt } = await uploadAssets("site", SITE);
    await api.ok(
      "PUT",
      "/workers/scripts/site",
      api.upload(
        {
          main_module: "index.js",
          compatibility_date: "2025-01-01",
          bindings: [{ type: "assets", name: "ASSETS" }],
          assets: { jwt, config: { html_handling: "auto-trailing-slash", not_found_handling: "404-page", run_worker_first: ["/api/*"] } },
        },
        { "index.js": WORKER },
      ),
    );
    const home = await get("/");
    expect(home).toMatchObject({ status: 200, body: "<h1>home</h1>" });
    expect(home.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect((await get("/about")).body).toBe("<h1>about</h1>");
    expect((await get("/docs/")).body).toBe("<h1>docs</h1>");
    const redirect = await get("/about.html?x=1");
    expect(redirect.status).toBe(307);
    expect(redirect.headers.location).toBe("/about?x=1");
    expect((await get("/docs")).headers.location).toBe("/docs/");
    const etag = home.headers.etag as string;
    expect((await get("/", "site.localhost", { "if-none-match": etag })).status).toBe(304);
    // No asset: with run_worker_first rules (static routing) not_found_handling answers, not the
    // Worker (Cloudflare's asset-worker keeps it in canFetch when the router has static routing).
    expect(await get("/missing")).toMatchObject({ status: 404, body: "<h1>lost</h1>" });
    // run_worker_first sends /api/* to the Worker even where an asset would match.
    expect((await get("/api/index.html")).body).toBe("worker:/api/index.html");
    expect((await get("/api/via-binding")).body).toBe("<h1>about</h1>");
  });

  it("serves an assets-only Worker, with not_found_handling for unknown paths", async () => {
    const { jwt } = await uploadAssets("spa", SITE);
    const f = api.upload({ compatibility_date: "2025-06-01", assets: { jwt, config: { not_found_handling: "single-page-application" } } });
    await api.ok("PUT", "/workers/scripts/spa", f);
    expect((await get("/deep/link", "spa.localhost")).body).toBe("<h1>home</h1>");
    expect((await get("/app.js", "spa.localhost")).body).toBe("console.log(1)");
  });

  it("ties assets to the version: a rollback serves the earlier files", async () => {
    const v1 = await api.ok<Versions>("GET", "/workers/scripts/site/versions").then((r) => r.items[0].id);
    const next: Files = { ...SITE, "/about.html": { body: "<h1>about v2</h1>", type: "text/html; charset=utf-8" } };
    const { jwt, uploaded } = await uploadAssets("site", next);
    expect(uploaded).toBe(1);
    await api.ok(
      "PUT",
      "/workers/scripts/site",
      api.upload(
        {
          main_module: "index.js",
          compatibility_date: "2025-01-01",
          bindings: [{ type: "assets", name: "ASSETS" }],
          assets: { jwt, config: { not_found_handling: "404-page" } },
        },
        { "index.js": WORKER },
      ),
    );
    expect((await get("/about")).body).toBe("<h1>about v2</h1>");
    await api.ok("POST", "/workers/scripts/site/deployments", { strategy: "percentage", versions: [{ version_id: v1, percentage: 100 }] });
    expect((await get("/about")).body).toBe("<h1>about</h1>");
    expect((await get("/api/via-binding")).body).toBe("<h1>about</h1>");
  });

  it("keep_assets reuses the latest version's assets, and secret edits carry them along", async () => {
    await api.ok(
      "PUT",
      "/workers/scripts/site",
      api.upload(
        { main_module: "index.js", compatibility_date: "2025-01-01", bindings: [{ type: "assets", name: "ASSETS" }], keep_assets: true },
        { "index.js": WORKER },
      ),
    );
    expect((await get("/about")).body).toBe("<h1>about v2</h1>");
    await api.ok("PUT", "/workers/scripts/site/secrets", { name: "S", text: "x", type: "secret_text" });
    expect((await get("/about")).body).toBe("<h1>about v2</h1>");
    expect((await get("/missing")).body).toBe("worker:/missing");
  });
});
