// Real wrangler (the pinned latest, and 4.86) deploying a Worker shaped like a real fleet's to the
// local edge: KV + a Durable Object with its migration + static assets + nodejs_compat + a Text
// module rule. Each step checks what the Worker serves from workerd: the asset, Buffer, the text
// module, the KV value, and Durable Object state across a redeploy and an edge restart. A
// redeploy with one changed asset uploads one file; a versions upload adding a Durable Object
// class is refused (4.86 by the API with 10211, the latest by wrangler itself after reading the
// migration tag); routes, a custom domain and workers.dev behave.
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestEdge, type TestEdge } from "./support/edge.ts";
import { eventually, httpGet } from "./support/http.ts";
import { stripAnsi } from "./support/text.ts";
import {
  createWranglerProject,
  describeRun,
  parseJsonOutput,
  parseLabelledId,
  type WranglerProject,
  type WranglerVersion,
} from "./support/wrangler.ts";

const SOURCE = (v: string, extra = "") => `
import { Buffer } from "node:buffer";
import { DurableObject } from "cloudflare:workers";
import greeting from "./greeting.txt";
export class Counter extends DurableObject {
  async increment() {
    const n = (this.ctx.storage.kv.get("n") ?? 0) + 1;
    this.ctx.storage.kv.put("n", n);
    return n;
  }
}
${extra}
export default {
  async fetch(req, env) {
    const url = new URL(req.url);
    if (url.pathname === "/api/info") {
      return Response.json({ v: "${v}", buffer: Buffer.from("hello").toString("base64"), text: greeting.trim(), kv: await env.CACHE.get("k") });
    }
    if (url.pathname === "/api/count") return Response.json({ n: await env.COUNTER.get(env.COUNTER.idFromName("global")).increment() });
    if (url.pathname === "/api/asset") return env.ASSETS.fetch(new URL("/about.txt", req.url));
    return new Response("worker fallback", { status: 404 });
  },
};`;

for (const wrangler of ["latest", "4.86"] as WranglerVersion[]) {
  describe(`real wrangler (${wrangler}) deploys a fleet Worker to the local edge`, () => {
    let t: TestEdge;
    let project: WranglerProject;
    let kvId = "";
    const dir = () => path.join(t.dataDir, "project");
    const get = (p: string, host = "fleet.localhost") => httpGet(t.region.port, host, { path: p });
    const json = async (p: string) => {
      const r = await get(p);
      expect(r.status, r.body).toBe(200);
      return JSON.parse(r.body);
    };
    const live = async () =>
      parseJsonOutput<{ versions: Array<{ version_id: string; percentage: number }> }>(
        await project.ok(["deployments", "status", "--json"]),
      ).versions;
    const config = (extra: Record<string, unknown> = {}) => ({
      name: "fleet",
      main: "src/index.js",
      compatibility_date: "2025-01-01",
      compatibility_flags: ["nodejs_compat"],
      kv_namespaces: [{ binding: "CACHE", id: kvId }],
      durable_objects: { bindings: [{ name: "COUNTER", class_name: "Counter" }] },
      migrations: [{ tag: "v1", new_sqlite_classes: ["Counter"] }],
      assets: { directory: "public", binding: "ASSETS", run_worker_first: ["/api/*"] },
      rules: [{ type: "Text", globs: ["**/*.txt"], fallthrough: true }],
      ...extra,
    });

    beforeAll(async () => {
      t = await startTestEdge();
      project = await createWranglerProject(dir(), t.edge, t.region.accountId, { wrangler });
      const r = await project.ok(["kv", "namespace", "create", "CACHE"]);
      kvId = /"id":\s*"([0-9a-f]{32})"/.exec(r.stdout)?.[1] ?? "";
      expect(kvId, describeRun(r)).toMatch(/^[0-9a-f]{32}$/);
      await project.ok(["kv", "key", "put", "k", "from-kv", "--namespace-id", kvId, "--remote"]);
      await project.writeFile("src/greeting.txt", "Hello from a text module\n");
      await project.writeFile("public/index.html", "<h1>fleet home</h1>");
      await project.writeFile("public/style.css", "body{color:red}");
      await project.writeFile("public/about.txt", "about the fleet");
      await project.writeFile("public/logo.svg", "<svg/>");
    });
    afterAll(async () => {
      await t?.dispose();
    });

    it("deploy: the asset, Buffer (nodejs_compat), the text module, KV and the Durable Object all work", async () => {
      await project.writeConfig(config());
      await project.writeSource(SOURCE("v1"));
      const r = await project.ok(["deploy"]);
      const out = stripAnsi(r.stdout + r.stderr);
      expect(out, describeRun(r)).toMatch(/Uploaded 4 files/);
      const home = await get("/");
      expect(home).toMatchObject({ status: 200, body: "<h1>fleet home</h1>" });
      expect(home.headers["content-type"]).toContain("text/html");
      expect((await get("/style.css")).body).toBe("body{color:red}");
      expect(await json("/api/info")).toEqual({ v: "v1", buffer: "aGVsbG8=", text: "Hello from a text module", kv: "from-kv" });
      expect((await get("/api/asset")).body).toBe("about the fleet");
      expect(await json("/api/count")).toEqual({ n: 1 });
      expect(await json("/api/count")).toEqual({ n: 2 });
      expect(await get("/nothing-here")).toMatchObject({ status: 404, body: "worker fallback" });
    });

    it("a redeploy with one changed asset uploads exactly one file; the object keeps its state", async () => {
      await project.writeFile("public/style.css", "body{color:blue}");
      await project.writeSource(SOURCE("v2"));
      const r = await project.ok(["deploy"]);
      const out = stripAnsi(r.stdout + r.stderr);
      expect(out, describeRun(r)).toMatch(/Found 1 new or modified static asset/);
      expect(out, describeRun(r)).toMatch(/Uploaded 1 file \(3 already uploaded\)/);
      expect(out).toContain("+ /style.css");
      await eventually(async () => expect((await get("/style.css")).body).toBe("body{color:blue}"));
      expect((await json("/api/info")).v).toBe("v2");
      expect(await json("/api/count")).toEqual({ n: 3 });
    });

    it("Durable Object state and assets survive an edge restart", async () => {
      const dataDir = t.dataDir;
      await t.edge.close();
      t = await startTestEdge({ dataDir });
      project = await createWranglerProject(dir(), t.edge, t.region.accountId, { wrangler });
      expect(await json("/api/count")).toEqual({ n: 4 });
      expect((await get("/style.css")).body).toBe("body{color:blue}");
    });

    it("a versions upload that adds a Durable Object class is refused, and nothing changes", async () => {
      const before = await live();
      await project.writeConfig(
        config({
          migrations: [
            { tag: "v1", new_sqlite_classes: ["Counter"] },
            { tag: "v2", new_sqlite_classes: ["Limiter"] },
          ],
        }),
      );
      await project.writeSource(SOURCE("v3", "export class Limiter extends DurableObject {}"));
      const r = await project.run(["versions", "upload"]);
      const out = stripAnsi(r.stdout + r.stderr);
      expect(r.code, describeRun(r)).not.toBe(0);
      if (wrangler === "4.86") {
        // 4.86 sends the migration and shows the API's refusal.
        expect(out, describeRun(r)).toContain("[code: 10211]");
        expect(out).toContain("migrations must be fully applied via a non-versioned deployment");
      } else {
        // The latest reads the script's migration tag (v1) from the edge and refuses locally.
        expect(out, describeRun(r)).toContain("pending Durable Object migration");
      }
      expect(await live()).toEqual(before);
      expect((await json("/api/info")).v).toBe("v2");
    });

    it("deploy applies that migration; the counter lives on and rollbacks to before it are refused", async () => {
      const r = await project.ok(["deploy"]);
      const migrated = parseLabelledId(r, "Current Version ID");
      expect((await json("/api/info")).v).toBe("v3");
      expect(await json("/api/count")).toEqual({ n: 5 });
      const versions = await project.ok(["versions", "list", "--json"]);
      const older = (JSON.parse(versions.stdout.slice(versions.stdout.search(/^\[/m))) as Array<{ id: string }>)
        .map((v) => v.id)
        .find((id) => id.replaceAll("-", "") !== migrated.replaceAll("-", ""));
      const back = await project.run(["rollback", older!, "-y"]);
      expect(back.code, describeRun(back)).not.toBe(0);
      expect(stripAnsi(back.stdout + back.stderr)).toContain("predates the Durable Object migration");
      expect((await json("/api/info")).v).toBe("v3");
    });

    it("routes, a custom domain and workers_dev = false reach the Worker only where configured", async () => {
      await project.writeConfig(
        config({
          migrations: [
            { tag: "v1", new_sqlite_classes: ["Counter"] },
            { tag: "v2", new_sqlite_classes: ["Limiter"] },
          ],
          workers_dev: false,
          routes: [
            { pattern: "shop.example.com/api/*", zone_name: "example.com" },
            { pattern: "fleet.example.net", custom_domain: true },
          ],
        }),
      );
      const r = await project.ok(["deploy"]);
      expect(stripAnsi(r.stdout + r.stderr), describeRun(r)).toContain("shop.example.com/api/* (zone name: example.com)");
      expect((await get("/api/info", "shop.example.com")).status).toBe(200);
      expect((await get("/", "fleet.example.net")).body).toBe("<h1>fleet home</h1>");
      expect((await get("/", "fleet.localhost")).status).toBe(404);
      expect((await get("/", `fleet.${t.region.subdomain}.workers.dev`)).status).toBe(404);
      await project.writeConfig(
        config({
          migrations: [
            { tag: "v1", new_sqlite_classes: ["Counter"] },
            { tag: "v2", new_sqlite_classes: ["Limiter"] },
          ],
        }),
      );
      await project.ok(["deploy"]);
      expect((await get("/", "fleet.localhost")).body).toBe("<h1>fleet home</h1>");
    });
  });
}
