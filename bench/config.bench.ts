// Config sync and agent reports (issue 5's figures):
//   config.heartbeat_ingest_ratio — signed heartbeats per second the orchestrator ingests and
//     stores (POST /v1/agent/heartbeat on a real daemon: schema, HMAC with the per-Worker key,
//     replay cache, batched SQLite writes), divided by a bare Hono endpoint on @hono/node-server
//     that only verifies the same HMAC on the same machine. Goal >= 0.8. Each request is a fresh,
//     distinct signed heartbeat from one of 200 isolates (bench/signed-load-child.ts).
//   config.publish_to_applied_* — see publishLatency below.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { startDaemon } from "../src/daemon.ts";
import { SIGNATURE_HEADER } from "../src/kit/protocol/bindings.ts";
import { importHmacKey, verifySignature } from "../src/kit/signing/index.ts";
import { atLeast, info, round, type Benchmark, type BenchContext, type BenchResult } from "./types.ts";

type SignedLoad = { durationSec: number; ok: number; non2xx: number; errors: number; rps: number; latencyP99Ms: number };
const CHILD = fileURLToPath(new URL("./signed-load-child.ts", import.meta.url));
const NO_EDGE = { apiUrl: "http://127.0.0.1:9", token: "unused", regions: [{ name: "eu", accountId: "e".repeat(32), accountName: "eu", subdomain: "eu", port: 9, publicUrl: "http://127.0.0.1:9" }] };

function signedLoad(opts: { url: string; key: Uint8Array; durationSec?: number }): Promise<SignedLoad> {
  const args = { url: opts.url, keyB64url: Buffer.from(opts.key).toString("base64url"), worker: "api", target: "eu", isolates: 200, connections: 32, durationSec: opts.durationSec ?? 8, warmupSec: 1 };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, JSON.stringify(args)], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out) as SignedLoad) : reject(new Error(`load child exited ${code}: ${out}`))));
  });
}

async function bareEndpoint(raw: Uint8Array): Promise<{ url: string; close(): Promise<void> }> {
  // The key imported once, as a server that cares about speed would.
  const key = await importHmacKey(raw);
  const app = new Hono();
  app.post("/v1/agent/heartbeat", async (c) => {
    const check = await verifySignature(c.req.header(SIGNATURE_HEADER), await c.req.text(), key);
    return check.ok ? c.json({ ok: true }, 202) : c.json({ error: check.reason }, 401);
  });
  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve(s as Server)) as Server;
  });
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}/v1/agent/heartbeat`, close: () => new Promise((r) => server.close(() => r())) };
}

async function heartbeatIngest(ctx: BenchContext): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), "cbo-bench-hb-"));
  writeFileSync(join(dir, "orchestrator.yaml"), "version: 1\ntargets:\n  - { name: eu, api: local }\nworkers:\n  - { name: api, main: api.js, agent: true }\n");
  writeFileSync(join(dir, "api.js"), "export default { fetch: () => new Response('ok') };\n");
  const d = await startDaemon({ dataDir: join(dir, "data"), configFile: join(dir, "orchestrator.yaml"), edge: NO_EDGE, env: { CBO_MASTER_KEY: randomBytes(32).toString("base64") }, port: 0, monitorIntervalMs: 3_600_000, log: () => {} });
  const { key } = d.security.workerKeys.current({ tenant: "default", worker: "api", target: "eu" }, "bench");
  const bare = await bareEndpoint(key);
  try {
    const base = await signedLoad({ url: bare.url, key });
    ctx.log(`bare Hono HMAC endpoint: ${base.rps.toFixed(0)} req/s (non2xx ${base.non2xx})`);
    const ours = await signedLoad({ url: new URL("/v1/agent/heartbeat", d.url).href, key });
    d.heartbeats.flush();
    const stored = d.store.agents.isolates("default", "api").length;
    const traffic = d.store.agents.traffic("default", "api", "bench-version", 0);
    ctx.log(`orchestrator ingest: ${ours.rps.toFixed(0)} req/s (non2xx ${ours.non2xx}); ${stored} isolates stored, ${traffic.requests} requests counted`);
    if (ours.non2xx > 0 || stored !== 200) throw new Error(`ingest refused ${ours.non2xx} heartbeats or stored ${stored} isolates (expected 200)`);
    return [
      atLeast("config.heartbeat_ingest_ratio", ours.rps / base.rps, "ratio", 0.8, { ingest_rps: round(ours.rps, 0), bare_rps: round(base.rps, 0), ingest_p99_ms: ours.latencyP99Ms, bare_p99_ms: base.latencyP99Ms, stored_windows_requests: traffic.requests }),
      info("config.heartbeat_ingest_rps", ours.rps, "req/s", { connections: 32, isolates: 200 }),
    ];
  } finally {
    await bare.close();
    await d.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const benchmarks: Benchmark[] = [{ name: "config.heartbeat_ingest_ratio", run: heartbeatIngest }];
