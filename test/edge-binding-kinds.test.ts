// Every binding kind of the upload metadata on the local edge: stored and returned as uploaded
// (secrets without their text), and what the Worker gets for each: real local implementations
// (rate limiting, Analytics Engine, version metadata, service entrypoints with RPC) and, for
// products the edge does not run, a binding whose use fails with a clear message. Also the
// versioned and script-level settings, 10057 and 10214.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestEdge, type TestEdge } from "./support/edge.ts";
import { edgeApi, type EdgeApi } from "./support/edge-api.ts";
import { EVERY_KIND } from "./support/every-binding.ts";
import { eventually, httpGet } from "./support/http.ts";

const PROBE = `
export default {
  async fetch(req, env) {
    const u = new URL(req.url);
    switch (u.pathname) {
      case "/unavailable": {
        const out = {};
        for (const name of ["AI", "HD", "VEC", "BROWSER", "WF"]) {
          try { await env[name].run?.("x"); out[name] = "no error"; } catch (e) { out[name] = String(e.message); }
        }
        return Response.json(out);
      }
      case "/ae": env.AE.writeDataPoint({ indexes: ["site-1"], blobs: ["click", null], doubles: [1.5] }); return new Response("written");
      case "/rl": { const r = []; for (let i = 0; i < 3; i++) r.push((await env.RL.limit({ key: "ip" })).success); return Response.json(r); }
      case "/svc": {
        const out = {};
        try { out.rpc = await env.SVC.double(21); } catch (e) { out.rpc = String(e.message); }
        try { out.fetched = await (await env.SVC.fetch("http://x/f")).text(); } catch (e) { out.fetched = String(e.message); }
        return Response.json(out);
      }
      default: return Response.json({ vm: env.VM, json: env.B, text: env.A, secret: env.C });
    }
  },
};`;

const ADMIN = `
import { WorkerEntrypoint } from "cloudflare:workers";
export class Admin extends WorkerEntrypoint {
  async double(x) { return x * 2; }
  async fetch(req) { return new Response("admin:" + new URL(req.url).pathname); }
}
export default { fetch() { return new Response("default entrypoint"); } };`;

describe("binding kinds on the local edge", () => {
  let t: TestEdge;
  let api: EdgeApi;
  let uploaded: Array<Record<string, unknown>>;
  const get = async (path: string) => {
    const r = await httpGet(t.region.port, "probe.localhost", { path });
    expect(r.status, r.body).toBe(200);
    return JSON.parse(r.body);
  };

  beforeAll(async () => {
    t = await startTestEdge();
    api = edgeApi(t.edge, t.region);
    const kv = await api.ok<{ id: string }>("POST", "/storage/kv/namespaces", { title: "probe" });
    await api.ok(
      "PUT",
      "/workers/scripts/other",
      api.upload({ main_module: "index.js", compatibility_date: "2025-01-01" }, { "index.js": ADMIN }),
    );
    // D1, R2 and queues are the data resources' own work; here only the kinds this edge runs or refuses to run.
    uploaded = EVERY_KIND.filter((b) => !["d1", "r2_bucket", "queue"].includes(b.type)).map((b) =>
      b.type === "kv_namespace" ? { ...b, namespace_id: kv.id } : b.type === "ratelimit" ? { ...b, simple: { limit: 4, period: 60 } } : b,
    );
    await api.ok(
      "PUT",
      "/workers/scripts/probe",
      api.upload(
        {
          main_module: "index.js",
          compatibility_date: "2025-01-01",
          bindings: uploaded,
          annotations: { "workers/tag": "t-1" },
          placement: { mode: "smart" },
          limits: { cpu_ms: 50 },
        },
        { "index.js": PROBE },
      ),
    );
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it("returns every binding as uploaded from the version and settings GETs, secrets without text", async () => {
    const versions = await api.ok<{ items: Array<{ id: string }> }>("GET", "/workers/scripts/probe/versions");
    const version = await api.ok<{ resources: { bindings: unknown[]; script_runtime: { limits: unknown } } }>(
      "GET",
      `/workers/scripts/probe/versions/${versions.items[0].id}`,
    );
    const expected = uploaded.map((b) => (b.type === "secret_text" ? { type: "secret_text", name: b.name } : b));
    expect(version.resources.bindings).toEqual(expected);
    expect(version.resources.script_runtime.limits).toMatchObject({ cpu_ms: 50 });
    const settings = await api.ok<Record<string, unknown>>("GET", "/workers/scripts/probe/settings");
    expect(settings.bindings).toEqual(expected);
    expect(settings.placement).toEqual({ mode: "smart" });
    expect(settings.limits).toEqual({ cpu_ms: 50 });
  });

  it("gives the Worker plain, json, secret and version metadata values (tag from the upload)", async () => {
    const r = await get("/");
    expect(r).toMatchObject({ json: { x: 1 }, text: "s", secret: "shh" });
    expect(r.vm).toMatchObject({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), tag: "t-1" });
  });

  it("fails clearly, naming the product, when a Worker uses a binding the edge cannot run", async () => {
    const r = await get("/unavailable");
    expect(r.AI).toContain("Workers AI is not emulated by the local edge: binding AI");
    expect(r.HD).toContain("Hyperdrive is not emulated");
    expect(r.VEC).toContain("Vectorize is not emulated");
    expect(r.BROWSER).toContain("Browser Rendering is not emulated");
    expect(r.WF).toContain("Workflows is not emulated");
  });

  it("runs rate limiting and Analytics Engine locally", async () => {
    // 4 per 60 s window: the 5th and 6th calls are refused (a window boundary may reset once).
    const calls = [...(await get("/rl")), ...(await get("/rl"))];
    expect(calls.slice(0, 4)).toEqual([true, true, true, true]);
    expect(calls.filter((x: boolean) => !x).length).toBeGreaterThanOrEqual(1);
    expect(await httpGet(t.region.port, "probe.localhost", { path: "/ae" })).toMatchObject({ status: 200, body: "written" });
    const points = await eventually(async () => {
      const r = await fetch(`${t.edge.adminUrl}/analytics-engine/${t.region.name}/events`, {
        headers: { authorization: `Bearer ${t.edge.token}` },
      });
      const body = (await r.json()) as { points: unknown[] };
      expect(body.points).toHaveLength(1);
      return body.points;
    });
    expect(points[0]).toMatchObject({ script: "probe", index1: "site-1", blobs: ["click", null], doubles: [1.5] });
  });

  it("calls a service binding's named entrypoint by fetch and by RPC", async () => {
    expect(await get("/svc")).toEqual({ rpc: 42, fetched: "admin:/f" });
  });

  it("refuses inherit bindings the previous version cannot satisfy with 10057, one error per binding", async () => {
    const r = await api.call(
      "POST",
      "/workers/scripts/probe/versions?bindings_inherit=strict",
      api.upload(
        {
          main_module: "index.js",
          compatibility_date: "2025-01-01",
          bindings: [
            { type: "inherit", name: "NOPE" },
            { type: "inherit", name: "ALSO" },
            { type: "inherit", name: "A" },
          ],
        },
        { "index.js": PROBE },
      ),
    );
    expect(r.errors.map((e) => e.code)).toEqual([10057, 10057]);
    expect(r.errors[0]!.message).toMatch(/^inherit binding 'NOPE' is invalid/);
    expect(r.errors[1]!.message).toMatch(/^inherit binding 'ALSO' is invalid/);
  });

  it("keeps script-level settings apart, and refuses versioned settings edits while the latest is not deployed (10214)", async () => {
    const patched = await api.ok("PATCH", "/workers/scripts/probe/script-settings", {
      logpush: true,
      observability: { enabled: true, head_sampling_rate: 0.5 },
      tail_consumers: [{ service: "other" }],
    });
    expect(patched).toMatchObject({
      logpush: true,
      observability: { enabled: true, head_sampling_rate: 0.5 },
      tail_consumers: [{ service: "other" }],
    });
    expect(await api.ok("GET", "/workers/scripts/probe/settings")).toMatchObject({ logpush: true, tail_consumers: [{ service: "other" }] });
    await api.ok(
      "POST",
      "/workers/scripts/probe/versions",
      api.upload({ main_module: "index.js", compatibility_date: "2025-01-01", bindings: uploaded }, { "index.js": PROBE }),
    );
    const form = new FormData();
    form.set("settings", JSON.stringify({ bindings: [{ type: "plain_text", name: "A", text: "changed" }] }));
    const refused = await api.call("PATCH", "/workers/scripts/probe/settings", form);
    expect(refused.errors[0]!.code).toBe(10214);
    expect(refused.errors[0]!.message).toContain("script-level settings API");
    // The non-versioned endpoint still works while the latest version waits.
    expect(await api.ok("PATCH", "/workers/scripts/probe/script-settings", { logpush: false })).toMatchObject({ logpush: false });
  });
});
