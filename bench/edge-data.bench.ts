// The local edge's data plane, measured through Workers: D1 reads under load, against KV reads by
// the same Worker (the binding that already crossed the same path: Worker -> router -> the edge's
// Node process), so the ratio is what the D1 binding costs on top; D1 writes one at a time, queue
// delivery latency from a producer's send() to the consumer's queue() handler, and a Time Travel
// restore of a database of a few MB. Figures only (`info`), except the D1/KV read ratio.
import { mkdtemp, rm } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCloudflareClient } from "../src/cloudflare/index.ts";
import { startLocalEdge } from "../src/local-edge/index.ts";
import type { LocalEdge } from "../src/local-edge/types.ts";
import { measureLoad, type LoadResult } from "./load.ts";
import { atLeast, info, median, percentile, round, type Benchmark, type BenchContext } from "./types.ts";

const LOAD = { connections: 16, durationSec: 5, warmupSec: 1 };

const WORKER = `
export default {
  async fetch(req, env) {
    const u = new URL(req.url);
    if (u.pathname === "/plain") return new Response("ok");
    if (u.pathname === "/kv") return new Response(await env.KV.get("a"));
    if (u.pathname === "/read") { const r = await env.DB.prepare("SELECT v FROM kv WHERE k = ?").bind("a").first("v"); return new Response(r); }
    if (u.pathname === "/write") { await env.DB.prepare("INSERT INTO log (at) VALUES (?)").bind(Date.now()).run(); return new Response("ok"); }
    if (u.pathname === "/send") { await env.JOBS.send({ sent: Date.now() }); return new Response("ok"); }
    return new Response("?", { status: 404 });
  },
  async queue(batch, env) {
    const now = Date.now();
    await env.DB.batch(batch.messages.map((m) => env.DB.prepare("INSERT INTO lat (ms) VALUES (?)").bind(now - m.body.sent)));
  },
};`;

type Setup = { edge: LocalEdge; dbId: string; api: (method: string, path: string, body?: unknown) => Promise<unknown> };

async function setup(ctx: BenchContext): Promise<Setup> {
  return ctx.shared(
    "edge-data",
    async () => {
      const dataDir = await mkdtemp(join(tmpdir(), "cbo-bench-data-"));
      const edge = await startLocalEdge({ dataDir, regions: ["eu"] });
      const acct = edge.regions[0]!.accountId;
      const api = async (method: string, path: string, body?: unknown) => {
        const res = await fetch(`${edge.apiUrl}/accounts/${acct}${path}`, {
          method,
          headers: { authorization: `Bearer ${edge.token}` },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        const env = (await res.json()) as { success: boolean; result: unknown; errors: unknown };
        if (!env.success) throw new Error(`${method} ${path}: ${JSON.stringify(env.errors)}`);
        return env.result;
      };
      const dbId = ((await api("POST", "/d1/database", { name: "bench" })) as { uuid: string }).uuid;
      await api("POST", `/d1/database/${dbId}/query`, {
        sql: "CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT); INSERT INTO kv VALUES ('a', 'ok'); CREATE TABLE log (at INTEGER); CREATE TABLE lat (ms INTEGER); CREATE TABLE big (id INTEGER PRIMARY KEY, pad TEXT)",
      });
      const queue = (await api("POST", "/queues", { queue_name: "jobs" })) as { queue_id: string };
      await api("POST", `/queues/${queue.queue_id}/consumers`, {
        type: "worker",
        script_name: "data",
        settings: { batch_size: 10, max_wait_time_ms: 0 },
      });
      const kvId = ((await api("POST", "/storage/kv/namespaces", { title: "bench" })) as { id: string }).id;
      await fetch(`${edge.apiUrl}/accounts/${acct}/storage/kv/namespaces/${kvId}/values/a`, {
        method: "PUT",
        headers: { authorization: `Bearer ${edge.token}` },
        body: "ok",
      });
      const cf = createCloudflareClient({ baseUrl: edge.apiUrl, apiToken: edge.token, accountId: acct });
      await cf.deploy("data", {
        mainModule: "index.js",
        compatibilityDate: "2025-01-01",
        modules: [{ name: "index.js", content: WORKER }],
        bindings: [
          { type: "d1", name: "DB", id: dbId },
          { type: "queue", name: "JOBS", queue_name: "jobs" },
          { type: "kv_namespace", name: "KV", namespace_id: kvId },
        ],
      });
      return { edge, dbId, api, dataDir };
    },
    async (s: Setup & { dataDir: string }) => {
      await s.edge.close();
      await rm(s.dataDir, { recursive: true, force: true });
    },
  );
}

function get(port: number, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, headers: { host: "data.localhost" } }, (res) => {
      res.resume();
      res.on("end", () => (res.statusCode === 200 ? resolve() : reject(new Error(`${path} -> ${res.statusCode}`))));
    });
    req.on("error", reject);
    req.end();
  });
}

export const benchmarks: Benchmark[] = [
  {
    name: "edge-data.d1_vs_kv_read_rps_ratio",
    async run(ctx) {
      const { edge } = await setup(ctx);
      const port = edge.regions[0]!.port;
      await get(port, "/read");
      const target = { url: `http://127.0.0.1:${port}`, host: "data.localhost", expectBody: "ok", ...LOAD };
      const runs = { plain: [] as LoadResult[], kv: [] as LoadResult[], read: [] as LoadResult[] };
      // Alternate so that drift on a shared machine hits all alike; keep the best of each.
      for (let lap = 0; lap < 2; lap++) {
        for (const key of ["plain", "kv", "read"] as const) {
          runs[key].push(await measureLoad({ ...target, url: `${target.url}/${key}` }));
          ctx.log(`${key}: ${runs[key].at(-1)!.rps.toFixed(0)} req/s`);
        }
      }
      const best = (r: LoadResult[]) => r.reduce((a, b) => (b.rps > a.rps ? b : a));
      const [plain, kv, read] = [best(runs.plain), best(runs.kv), best(runs.read)];
      const detail = (r: LoadResult) => ({
        ...LOAD,
        latency_p50_ms: r.latencyP50Ms,
        latency_p99_ms: r.latencyP99Ms,
        bad: r.non2xx + r.mismatches + r.errors + r.timeouts,
      });
      return [
        atLeast("edge-data.d1_vs_kv_read_rps_ratio", read.rps / kv.rps, "ratio", 0.6, {
          note: "requests doing one D1 SELECT / requests doing one KV get, same Worker",
        }),
        info("edge-data.d1_read_rps", read.rps, "req/s", detail(read)),
        info("edge-data.kv_read_rps", kv.rps, "req/s", detail(kv)),
        info("edge-data.plain_rps", plain.rps, "req/s", detail(plain)),
      ];
    },
  },
  {
    name: "edge-data.d1_write_ms",
    async run(ctx) {
      const { edge } = await setup(ctx);
      const port = edge.regions[0]!.port;
      const samples: number[] = [];
      for (let i = 0; i < 200; i++) {
        const t0 = performance.now();
        await get(port, "/write");
        samples.push(performance.now() - t0);
      }
      return [
        info("edge-data.d1_write_ms", median(samples), "ms", {
          p95_ms: round(percentile(samples, 95)),
          samples: samples.length,
          note: "one INSERT through a Worker, request to response, with its Time Travel capture",
        }),
      ];
    },
  },
  {
    name: "edge-data.queue_delivery_ms",
    async run(ctx) {
      const { edge, dbId, api } = await setup(ctx);
      const port = edge.regions[0]!.port;
      const n = 100;
      for (let i = 0; i < n; i++) await get(port, "/send");
      let lat: number[] = [];
      for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
        const rows = (await api("POST", `/d1/database/${dbId}/query`, { sql: "SELECT ms FROM lat" })) as Array<{
          results: Array<{ ms: number }>;
        }>;
        lat = rows[0]!.results.map((r) => r.ms);
        if (lat.length >= n) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      return [
        info("edge-data.queue_delivery_ms", median(lat), "ms", {
          p95_ms: round(percentile(lat, 95)),
          delivered: lat.length,
          sent: n,
          note: "send() in a producer to queue() in the consumer, max_wait_time_ms 0",
        }),
      ];
    },
  },
  {
    name: "edge-data.d1_restore_ms",
    async run(ctx) {
      const { dbId, api } = await setup(ctx);
      const { bookmark } = (await api("GET", `/d1/database/${dbId}/time_travel/bookmark?`)) as { bookmark: string };
      // ~4 MB of rows written in 40 calls after the bookmark, then back to it.
      for (let i = 0; i < 40; i++) {
        await api("POST", `/d1/database/${dbId}/query`, {
          sql: `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100) INSERT INTO big (pad) SELECT randomblob(1000) FROM c`,
        });
      }
      const info0 = (await api("GET", `/d1/database/${dbId}`)) as { file_size: number };
      const t0 = performance.now();
      await api("POST", `/d1/database/${dbId}/time_travel/restore?bookmark=${bookmark}`);
      const ms = performance.now() - t0;
      const after = (await api("POST", `/d1/database/${dbId}/query`, { sql: "SELECT count(*) AS n FROM big" })) as Array<{
        results: Array<{ n: number }>;
      }>;
      if (after[0]!.results[0]!.n !== 0) throw new Error("the restore did not bring back the empty table");
      return [info("edge-data.d1_restore_ms", ms, "ms", { database_bytes_before: info0.file_size, writes_undone: 40 })];
    },
  },
];
