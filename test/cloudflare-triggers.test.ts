// Our client's trigger calls against the real local edge, each checked on what the region then
// serves or fires: cron schedules (replace, clear, an invalid cron refused with nothing
// changed), script routes and zone routes, custom domains by the records PUT wrangler sends,
// and the workers.dev / preview URL switches.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestEdge, type TestEdge } from "./support/edge.ts";
import { expectClassified, failure, recordingClient, summary, type RecordingClient } from "./support/cf-client.ts";
import { httpGet } from "./support/http.ts";

const echo = (name: string) => `export default {
  fetch(req) { const u = new URL(req.url); return new Response("${name} " + u.host + u.pathname); },
  async scheduled(event) {},
};`;

describe("Cloudflare client: crons, routes, custom domains, workers.dev", () => {
  let t: TestEdge;
  let c: RecordingClient;
  const body = async (host: string, path = "/") => {
    const r = await httpGet(t.region.port, host, { path });
    return r.status === 200 ? r.body : `${r.status}`;
  };

  beforeAll(async () => {
    t = await startTestEdge({ regions: ["eu"] });
    c = recordingClient(t);
    for (const name of ["shop", "api"]) {
      await c.cf.deploy(name, {
        mainModule: "index.js",
        modules: [{ name: "index.js", content: echo(name) }],
        compatibilityDate: "2025-01-01",
      });
    }
  });
  afterAll(async () => t?.dispose());

  it("crons: replaced as a set, fired by the edge, cleared by []; an invalid cron changes nothing", async () => {
    expect(await c.cf.getSchedules("shop")).toEqual([]);
    const put = await c.cf.putSchedules("shop", ["*/5 * * * *", "0 0 * * MON"]);
    expect(put.map((s) => s.cron)).toEqual(["*/5 * * * *", "0 0 * * MON"]);
    expect((await c.cf.getSchedules("shop")).map((s) => s.cron)).toEqual(["*/5 * * * *", "0 0 * * MON"]);
    const fired = await fetch(`${t.edge.adminUrl}/trigger/${t.region.name}/shop`, {
      method: "POST",
      headers: { authorization: `Bearer ${t.edge.token}`, "content-type": "application/json" },
      body: JSON.stringify({ cron: "*/5 * * * *" }),
    });
    expect(await fired.json()).toMatchObject({ script: "shop", outcome: "ok" });
    const bad = await failure(c.cf.putSchedules("shop", ["*/5 * * * *", "61 * * * *"]));
    expect(summary(bad)).toMatchObject({ code: "ERR_CF_REQUEST", retryable: false, status: 400 });
    expect(bad.message).toMatch(/61 \* \* \* \*/);
    expect((await c.cf.getSchedules("shop")).map((s) => s.cron)).toEqual(["*/5 * * * *", "0 0 * * MON"]);
    expect(await c.cf.putSchedules("shop", [])).toEqual([]);
    expect(await c.cf.getSchedules("shop")).toEqual([]);
    expect(summary(await failure(c.cf.getSchedules("no-such-worker")))).toMatchObject({ status: 404, cf: 10007 });
  });

  it("script routes: the set replaces, the most specific route serves; another Worker's pattern is refused", async () => {
    const routes = await c.cf.putScriptRoutes("shop", [
      { pattern: "example.com/*", zoneName: "example.com" },
      { pattern: "*.example.com/*" },
    ]);
    expect(routes.map((r) => r.pattern)).toEqual(["example.com/*", "*.example.com/*"]);
    await c.cf.putScriptRoutes("api", [{ pattern: "example.com/api/*" }]);
    expect(await body("example.com", "/cart")).toBe("shop example.com/cart");
    expect(await body("example.com", "/api/x")).toBe("api example.com/api/x");
    expect(await c.cf.getScriptRoutes("api")).toEqual([
      expect.objectContaining({ pattern: "example.com/api/*", script: "api", zone_name: "example.com" }),
    ]);
    const taken = await failure(c.cf.putScriptRoutes("shop", [{ pattern: "example.com/api/*" }]));
    expect(summary(taken)).toMatchObject({ code: "ERR_CF_REQUEST", retryable: false, status: 409 });
    expect(taken.message).toContain('already associated with another worker called "api"');
    expect(await c.cf.putScriptRoutes("api", [])).toEqual([]);
    expect(await body("example.com", "/api/x")).toBe("shop example.com/api/x");
  });

  it("zone routes: find the zone, add a route for a script, list, delete", async () => {
    const zone = await c.cf.findZone("example.com");
    expect(zone).toMatchObject({ name: "example.com", id: expect.any(String) });
    expect(await c.cf.findZone("www.example.com")).toBeNull();
    const added = await c.cf.createZoneRoute(zone!.id, { pattern: "blog.example.com/*", script: "api" });
    expect(await body("blog.example.com", "/p")).toBe("api blog.example.com/p");
    expect(await c.cf.listZoneRoutes(zone!.id)).toEqual(
      expect.arrayContaining([expect.objectContaining({ pattern: "blog.example.com/*", script: "api" })]),
    );
    expect(summary(await failure(c.cf.createZoneRoute(zone!.id, { pattern: "blog.example.com/*", script: "shop" })))).toMatchObject({
      status: 409,
    });
    await c.cf.deleteZoneRoute(zone!.id, added.id!);
    expect(await body("blog.example.com", "/p")).toBe("shop blog.example.com/p");
  });

  it("custom domains: the records PUT sets the Worker's whole set, moving a hostname from another Worker", async () => {
    const set = await c.cf.putCustomDomains("api", [
      { hostname: "api.example.org" },
      { hostname: "status.example.org", zoneName: "example.org" },
    ]);
    expect(set.map((d) => d.hostname).sort()).toEqual(["api.example.org", "status.example.org"]);
    expect(await body("api.example.org", "/v1")).toBe("api api.example.org/v1");
    expect((await c.cf.listCustomDomains({ service: "api" })).map((d) => d.hostname).sort()).toEqual([
      "api.example.org",
      "status.example.org",
    ]);
    // Without override of the existing origin, another Worker's hostname is refused; with it (the default), it moves.
    expect(
      summary(await failure(c.cf.putCustomDomains("shop", [{ hostname: "api.example.org" }], { overrideExistingOrigin: false }))),
    ).toMatchObject({ status: 409 });
    await c.cf.putCustomDomains("shop", [{ hostname: "api.example.org" }]);
    expect(await body("api.example.org")).toBe("shop api.example.org/");
    // Replacing api's set drops what is not listed.
    await c.cf.putCustomDomains("api", []);
    expect(await c.cf.listCustomDomains({ service: "api" })).toEqual([]);
    expect(await body("status.example.org")).toBe("404");
    const [mine] = await c.cf.listCustomDomains({ hostname: "api.example.org" });
    await c.cf.deleteCustomDomain(mine!.id);
    expect(await body("api.example.org")).toBe("404");
    expect(summary(await failure(c.cf.deleteCustomDomain(mine!.id)))).toMatchObject({ code: "ERR_CF_REQUEST", status: 404 });
  });

  it("workers.dev: off and on, and preview URLs with it", async () => {
    expect(await c.cf.getScriptSubdomain("api")).toEqual({ enabled: true, previews_enabled: true });
    expect(await body("api.localhost")).toBe("api api.localhost/");
    expect(await c.cf.setScriptSubdomain("api", { enabled: false })).toEqual({ enabled: false, previews_enabled: true });
    expect(await body(`api.${t.region.subdomain}.workers.dev`)).toBe("404");
    const [latest] = await c.cf.listVersions("api");
    const preview = `${latest!.id.slice(0, 8)}-api.${t.region.subdomain}.workers.dev`;
    expect(await body(preview)).toBe(`api ${preview}/`);
    await c.cf.setScriptSubdomain("api", { enabled: false, previewsEnabled: false });
    expect(await body(preview)).toBe("404");
    expect(await c.cf.setScriptSubdomain("api", { enabled: true, previewsEnabled: true })).toEqual({
      enabled: true,
      previews_enabled: true,
    });
    expect(await body(`api.${t.region.subdomain}.workers.dev`)).toBe(`api api.${t.region.subdomain}.workers.dev/`);
    expect(summary(await failure(c.cf.setScriptSubdomain("nope", { enabled: true })))).toMatchObject({ status: 404, cf: 10007 });
  });

  it("names every request's endpoint class", () => {
    expectClassified(c.endpoints, [
      "workers.versions.create",
      "workers.scripts.put",
      "workers.deployments.list",
      "workers.versions.list",
      "workers.schedules.get",
      "workers.schedules.put",
      "workers.routes.get",
      "workers.routes.put",
      "zones.list",
      "zones.workers-routes.create",
      "zones.workers-routes.list",
      "zones.workers-routes.delete",
      "workers.domains.records.put",
      "workers.domains.list",
      "workers.domains.delete",
      "workers.subdomain.get",
      "workers.subdomain.post",
    ]);
  });
});
