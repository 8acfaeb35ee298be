// Static assets through our client and the build layer's manifest, against the real local edge:
// a directory's manifest (wrangler's hashes) goes up in buckets authorised by the session's
// JWT (never the API token), the completion token goes into the version, and the region serves
// the files with their MIME types; a redeploy uploads only what changed; keep_assets reuses the
// previous version's; an assets-only Worker has no module; bad tokens are refused.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildAssetManifest, createAssetReader, type AssetsBuild } from "../src/build/assets-manifest.ts";
import { createRequestBudget } from "../src/cloudflare/budget.ts";
import { createCloudflareClient, type CloudflareClient } from "../src/cloudflare/client.ts";
import { assetsConfigMetadata, type AssetContent } from "../src/cloudflare/index.ts";
import { startTestEdge, type TestEdge } from "./support/edge.ts";
import { expectClassified, failure, summary } from "./support/cf-client.ts";
import { eventually, httpGet } from "./support/http.ts";

const WORKER = `export default { async fetch(req, env) {
  const u = new URL(req.url);
  if (u.pathname === "/api") return new Response("from the worker");
  return env.ASSETS.fetch(req);
} };`;

describe("Cloudflare client: static assets", () => {
  let t: TestEdge;
  let cf: CloudflareClient;
  let root = "";
  let dir = "";
  const endpoints: string[] = [];
  /** Authorization headers sent on asset uploads. */
  const uploadAuth: string[] = [];
  const get = (path: string, host = "site.localhost") => httpGet(t.region.port, host, { path });

  const loader = (built: AssetsBuild) => {
    const read = createAssetReader({ root });
    return async (hash: string): Promise<AssetContent> => {
      const file = built.files.find((f) => f.hash === hash)!;
      return { content: await read(file), contentType: file.contentType };
    };
  };

  beforeAll(async () => {
    t = await startTestEdge({ regions: ["eu"] });
    cf = createCloudflareClient({
      baseUrl: t.edge.apiUrl,
      apiToken: t.edge.token,
      accountId: t.region.accountId,
      budget: createRequestBudget(),
      onRequest: (i) => endpoints.push(i.endpoint),
      fetch: (input, init) => {
        if (String(input).includes("/workers/assets/upload")) uploadAuth.push(new Headers(init?.headers).get("authorization") ?? "");
        return fetch(input, init);
      },
    });
    root = mkdtempSync(join(tmpdir(), "cbo-cf-assets-"));
    dir = join(root, "public");
    mkdirSync(join(dir, "css"), { recursive: true });
    writeFileSync(join(dir, "index.html"), "<h1>home</h1>");
    writeFileSync(join(dir, "css", "site.css"), "body{color:red}");
    writeFileSync(join(dir, "LICENSE"), "MIT");
    writeFileSync(join(dir, ".assetsignore"), "*.draft\n");
    writeFileSync(join(dir, "wip.draft"), "not public");
    writeFileSync(join(dir, "_headers"), "/*\n  X-Test: 1\n");
    for (let i = 0; i < 120; i++) writeFileSync(join(dir, `page-${i}.txt`), `page ${i}`);
  });
  afterAll(async () => {
    await t?.dispose();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it("uploads the directory in buckets with the session's JWT and serves it with each file's MIME type", async () => {
    const built = await buildAssetManifest(dir, { root });
    expect(Object.keys(built.manifest)).toHaveLength(123);
    expect(built.manifest).not.toHaveProperty("/wip.draft");
    const before = endpoints.length;
    const sync = await cf.syncAssets("site", built.manifest, loader(built));
    expect(sync).toMatchObject({ uploaded: 123, skipped: 0, jwt: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/) });
    // One session, then one request per bucket (the edge's buckets hold 50 files).
    expect(endpoints.slice(before)).toEqual([
      "workers.assets.upload-session",
      "workers.assets.upload",
      "workers.assets.upload",
      "workers.assets.upload",
    ]);
    expect(uploadAuth.length).toBe(3);
    expect(uploadAuth.every((a) => a.startsWith("Bearer ") && !a.includes(t.edge.token))).toBe(true);

    await cf.deploy("site", {
      mainModule: "index.js",
      modules: [{ name: "index.js", content: WORKER }],
      compatibilityDate: "2025-01-01",
      bindings: [{ type: "assets", name: "ASSETS" }],
      assets: {
        jwt: sync.jwt,
        config: assetsConfigMetadata(
          { directory: dir, htmlHandling: "auto-trailing-slash" },
          { ...(built.headers ? { headers: built.headers } : {}) },
        ),
      },
    });
    await eventually(async () => expect((await get("/css/site.css")).body).toBe("body{color:red}"));
    expect((await get("/css/site.css")).headers["content-type"]).toBe("text/css; charset=utf-8");
    expect((await get("/")).body).toBe("<h1>home</h1>");
    expect((await get("/page-7.txt")).body).toBe("page 7");
    expect((await get("/api")).body).toBe("from the worker");
    // application/null: served without a Content-Type.
    const license = await get("/LICENSE");
    expect(license.body).toBe("MIT");
    expect(license.headers["content-type"]).toBeUndefined();
    expect((await get("/wip.draft")).status).toBe(404);
  });

  it("a redeploy uploads only the changed file; an unchanged directory uploads nothing", async () => {
    writeFileSync(join(dir, "css", "site.css"), "body{color:blue}");
    const built = await buildAssetManifest(dir, { root });
    const sync = await cf.syncAssets("site", built.manifest, loader(built));
    expect(sync).toMatchObject({ uploaded: 1, skipped: 122 });
    await cf.deploy("site", {
      mainModule: "index.js",
      modules: [{ name: "index.js", content: WORKER }],
      compatibilityDate: "2025-01-01",
      bindings: [{ type: "assets", name: "ASSETS" }],
      assets: { jwt: sync.jwt },
    });
    await eventually(async () => expect((await get("/css/site.css")).body).toBe("body{color:blue}"));
    const again = await cf.syncAssets("site", built.manifest, loader(built));
    expect(again).toMatchObject({ uploaded: 0, skipped: 123 });
  });

  it("keep_assets: a new version without an upload keeps serving the previous version's assets", async () => {
    await cf.deploy("site", {
      mainModule: "index.js",
      modules: [{ name: "index.js", content: WORKER.replace("from the worker", "from v3") }],
      compatibilityDate: "2025-01-01",
      bindings: [{ type: "assets", name: "ASSETS" }],
      keepAssets: true,
    });
    await eventually(async () => expect((await get("/api")).body).toBe("from v3"));
    expect((await get("/css/site.css")).body).toBe("body{color:blue}");
  });

  it("an assets-only Worker: no module part, the files serve on its own", async () => {
    const built = await buildAssetManifest(dir, { root });
    const sync = await cf.syncAssets("static-only", built.manifest, loader(built));
    expect(sync.uploaded).toBe(0); // the account already holds every file
    const result = await cf.deploy("static-only", {
      modules: [],
      compatibilityDate: "2025-04-01",
      assets: { jwt: sync.jwt, config: { html_handling: "auto-trailing-slash" } },
    });
    expect(result.created).toBe(true);
    await eventually(async () => expect((await get("/", "static-only.localhost")).body).toBe("<h1>home</h1>"));
  });

  it("refusals: an upload token that is not a session's (401, 10000), and a version whose assets jwt is not a completion token (10021)", async () => {
    const bad = await failure(
      cf.uploadAssetsBucket("not.a.token", [{ hash: "0".repeat(32), content: new Uint8Array([1]), contentType: "text/plain" }]),
    );
    expect(summary(bad)).toEqual({ code: "ERR_CF_REQUEST", retryable: false, status: 401, cf: 10000 });
    expect(bad.message).not.toContain("not.a.token");
    writeFileSync(join(dir, "new.txt"), "new");
    const built = await buildAssetManifest(dir, { root });
    const session = await cf.createAssetsUploadSession("site", built.manifest);
    expect(session.buckets.flat()).toEqual([built.manifest["/new.txt"]!.hash]);
    const e = await failure(
      cf.uploadVersion("site", {
        mainModule: "index.js",
        modules: [{ name: "index.js", content: WORKER }],
        compatibilityDate: "2025-01-01",
        assets: { jwt: session.jwt },
      }),
    );
    expect(summary(e)).toEqual({ code: "ERR_CF_REQUEST", retryable: false, status: 400, cf: 10021 });
  });

  it("names every request's endpoint class", () => {
    expectClassified(endpoints, [
      "workers.assets.upload-session",
      "workers.assets.upload",
      "workers.versions.create",
      "workers.scripts.put",
      "workers.deployments.list",
      "workers.deployments.create",
    ]);
  });
});
