// Where Workers answer on the local edge besides <name>.localhost: routes (per script and per
// zone), custom domains, and the workers.dev and preview URL switches, each honoured by the
// region's router as soon as the API call returns.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestEdge, type TestEdge } from "./support/edge.ts";
import { edgeApi, type EdgeApi } from "./support/edge-api.ts";
import { httpGet } from "./support/http.ts";

const echo = (name: string) =>
  `export default { fetch(req) { const u = new URL(req.url); return new Response("${name} " + u.host + u.pathname); } };`;

/** The part of a script's version list the tests read. */
type Versions = { items: Array<{ id: string; metadata: { has_preview: boolean } }> };

describe("routes, custom domains and workers.dev on the local edge", () => {
  let t: TestEdge;
  let api: EdgeApi;
  const get = (host: string, path = "/") => httpGet(t.region.port, host, { path });
  const body = async (host: string, path = "/") => {
    const r = await get(host, path);
    return r.status === 200 ? r.body : `${r.status}`;
  };

  beforeAll(async () => {
    t = await startTestEdge();
    api = edgeApi(t.edge, t.region);
    for (const name of ["shop", "api", "blog"]) {
      await api.ok(
        "PUT",
        `/workers/scripts/${name}`,
        api.upload({ main_module: "index.js", compatibility_date: "2025-01-01" }, { "index.js": echo(name) }),
      );
    }
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it("routes a host and path to the most specific script route", async () => {
    const routes = await api.ok<Array<{ pattern: string }>>("PUT", "/workers/scripts/shop/routes", [
      { pattern: "example.com/*", zone_name: "example.com" },
      { pattern: "*.example.com/*" },
    ]);
    expect(routes.map((r) => r.pattern)).toEqual(["example.com/*", "*.example.com/*"]);
    await api.ok("PUT", "/workers/scripts/api/routes", [{ pattern: "example.com/api/*" }]);
    expect(await body("example.com", "/cart")).toBe("shop example.com/cart");
    expect(await body("example.com", "/api/users")).toBe("api example.com/api/users");
    expect(await body("www.example.com", "/")).toBe("shop www.example.com/");
    expect(await body("example.net", "/")).toBe("404");
    expect((await api.ok<unknown[]>("GET", "/workers/scripts/api/routes"))[0]).toMatchObject({
      pattern: "example.com/api/*",
      script: "api",
      zone_name: "example.com",
    });
  });

  it("refuses a pattern another script holds, and replaces a script's routes on PUT", async () => {
    const taken = await api.call("PUT", "/workers/scripts/blog/routes", [{ pattern: "example.com/api/*" }]);
    expect(taken.status).toBe(409);
    expect(taken.errors[0]!.message).toContain('already associated with another worker called "api"');
    await api.ok("PUT", "/workers/scripts/api/routes", []);
    expect(await body("example.com", "/api/users")).toBe("shop example.com/api/users");
    expect((await api.call("PUT", "/workers/scripts/blog/routes", [{ pattern: "nodot/*" }])).status).toBe(400);
  });

  it("answers the zone API wrangler falls back on", async () => {
    const zones = await api.ok<Array<{ id: string }>>("GET", `/zones?name=example.com&account.id=${t.region.accountId}`);
    expect(zones).toEqual([expect.objectContaining({ name: "example.com", status: "active" })]);
    expect(await api.ok("GET", `/zones?name=www.example.com&account.id=${t.region.accountId}`)).toEqual([]);
    const zone = zones[0].id;
    const added = await api.ok<{ id: string }>("POST", `/zones/${zone}/workers/routes`, { pattern: "blog.example.com/*", script: "blog" });
    expect(await body("blog.example.com", "/post")).toBe("blog blog.example.com/post");
    expect(await api.ok("GET", `/zones/${zone}/workers/routes`)).toEqual(
      expect.arrayContaining([expect.objectContaining({ pattern: "blog.example.com/*", script: "blog" })]),
    );
    expect((await api.call("POST", `/zones/${zone}/workers/routes`, { pattern: "blog.example.com/*", script: "api" })).status).toBe(409);
    await api.ok("DELETE", `/zones/${zone}/workers/routes/${added.id}`);
    expect(await body("blog.example.com", "/post")).toBe("shop blog.example.com/post");
  });

  it("serves custom domains, set by the records PUT wrangler sends and the /workers/domains API", async () => {
    const changes = await api.ok("POST", "/workers/scripts/blog/domains/changeset?replace_state=true", [{ hostname: "blog.example.org" }]);
    expect(changes).toMatchObject({ added: [{ hostname: "blog.example.org" }], updated: [], conflicting: [] });
    await api.ok("PUT", "/workers/scripts/blog/domains/records", {
      override_scope: true,
      override_existing_origin: false,
      override_existing_dns_record: false,
      origins: [{ hostname: "blog.example.org" }],
    });
    expect(await body("blog.example.org", "/any/path")).toBe("blog blog.example.org/any/path");
    const taken = await api.call("PUT", "/workers/scripts/api/domains/records", {
      override_scope: true,
      origins: [{ hostname: "blog.example.org" }],
    });
    expect(taken.status).toBe(409);
    await api.ok("PUT", "/workers/scripts/api/domains/records", {
      override_scope: true,
      override_existing_origin: true,
      origins: [{ hostname: "blog.example.org" }],
    });
    expect(await body("blog.example.org")).toBe("api blog.example.org/");
    const listed = await api.ok<Array<{ id: string }>>("GET", "/workers/domains?service=api");
    expect(listed).toEqual([expect.objectContaining({ hostname: "blog.example.org", zone_name: "example.org", service: "api" })]);
    await api.ok("DELETE", `/workers/domains/${listed[0].id}`);
    expect(await body("blog.example.org")).toBe("404");
    const attached = await api.ok<{ id: string }>("PUT", "/workers/domains", {
      hostname: "shop.example.org",
      service: "shop",
      environment: "production",
    });
    expect(await api.ok("GET", `/workers/domains/records/${attached.id}`)).toMatchObject({ hostname: "shop.example.org", service: "shop" });
    expect(await body("shop.example.org")).toBe("shop shop.example.org/");
  });

  it("turns workers.dev (and <name>.localhost) and preview URLs off and on", async () => {
    expect(await body("blog.localhost")).toBe("blog blog.localhost/");
    await api.ok("POST", "/workers/scripts/blog/subdomain", { enabled: false });
    expect(await body("blog.localhost")).toBe("404");
    expect(await body(`blog.${t.region.subdomain}.workers.dev`)).toBe("404");
    const version = (await api.ok<Versions>("GET", "/workers/scripts/blog/versions")).items[0];
    expect(version.metadata.has_preview).toBe(true);
    const preview = `${version.id.slice(0, 8)}-blog.${t.region.subdomain}.workers.dev`;
    expect(await body(preview)).toBe(`blog ${preview}/`);
    await api.ok("POST", "/workers/scripts/blog/subdomain", { enabled: false, previews_enabled: false });
    expect(await body(preview)).toBe("404");
    expect((await api.ok<Versions>("GET", "/workers/scripts/blog/versions")).items[0].metadata.has_preview).toBe(false);
    await api.ok("POST", "/workers/scripts/blog/subdomain", { enabled: true, previews_enabled: true });
    expect(await body("blog.localhost")).toBe("blog blog.localhost/");
  });
});
