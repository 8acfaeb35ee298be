// What the edge agent costs a Worker: requests/s of an example-style Hono Worker with the agent
// mounted (middleware + /orchestrator routes, a signed config in KV, heartbeats to a stand-in
// orchestrator that answers 204) divided by the same Worker without it. Both run in real workerd
// on their own direct socket (as the local edge's regions serve), loaded by autocannon in a child
// process. The handler is deliberately light (no KV call per request, unlike examples/hello), so
// the agent's share of each request is not hidden behind I/O.
import http from "node:http";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { Miniflare, NoOpLog } from "miniflare";
import { WORKER_BUILD_OPTIONS } from "../src/deploy/bundle.ts";
import { configKvKey, signConfigBundle } from "../src/kit/protocol/index.ts";
import { bytesToBase64url, exportEd25519PublicKey, generateEd25519KeyPair, generateHmacKey } from "../src/kit/signing/index.ts";
import { measureLoad, type LoadResult } from "./load.ts";
import { atLeast, atMost, info, median, round, type Benchmark } from "./types.ts";

// Many short rounds rather than a few long runs: this machine has 2 cores shared with whatever
// else runs, and neighbouring runs see nearly the same background load, so the ratio is taken
// per round (the three variants back to back, order rotating) and the median of those is reported.
const LOAD = { connections: 32, durationSec: 2, warmupSec: 1 };
const ROUNDS = 6;
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const EXPECTED_BODY = JSON.stringify({ message: "Hello from the edge" });

const WITHOUT_AGENT = `
import { Hono } from "hono";
const app = new Hono();
app.get("/health", (c) => c.json({ ok: true, version: c.env.CBO_VERSION?.id ?? null }));
app.get("/", (c) => c.json({ message: c.env.GREETING + " from the edge" }));
export default { fetch: app.fetch };
`;

// For scale: what any one Hono middleware costs this handler, agent or not.
const NOOP_MIDDLEWARE = WITHOUT_AGENT.replace(
  "const app = new Hono();",
  "const app = new Hono();\napp.use(async (_c, next) => { await next(); });",
);

const WITH_AGENT = `
import { Hono } from "hono";
import { createEdgeAgent } from "./src/edge/index.ts";
const agent = createEdgeAgent();
const app = new Hono();
app.use(agent.middleware);
app.route("/orchestrator", agent.app);
app.get("/health", (c) => c.json({ ok: true, version: c.env.CBO_VERSION?.id ?? null }));
app.get("/", (c) => c.json({ message: c.var.cboConfig.greeting + " from the edge" }));
export default { fetch: app.fetch, scheduled: agent.scheduled };
`;

// The same app with the agent's fetch wrapper doing the counting instead of a Hono middleware;
// handlers read agent.config() rather than c.var.
const WITH_AGENT_WRAP = `
import { Hono } from "hono";
import { createEdgeAgent } from "./src/edge/index.ts";
const agent = createEdgeAgent();
const app = new Hono();
app.route("/orchestrator", agent.app);
app.get("/health", (c) => c.json({ ok: true, version: c.env.CBO_VERSION?.id ?? null }));
app.get("/", (c) => c.json({ message: agent.config().greeting + " from the edge" }));
export default agent.wrap(app);
`;

async function bundle(source: string): Promise<string> {
  const out = await build({
    stdin: { contents: source, resolveDir: ROOT, loader: "ts" },
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2024",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["browser", "module", "main"],
    write: false,
    logLevel: "silent",
  });
  return out.outputFiles[0]!.text;
}

type Served = { url: string; close(): Promise<void> };

async function serve(code: string, env: Record<string, unknown>): Promise<Served & { mf: Miniflare }> {
  const mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    log: new NoOpLog(),
    handleStructuredLogs: () => {},
    telemetry: { enabled: false },
    enableDevRegistry: false,
    cf: { colo: "LCL", country: "XX" },
    workers: [
      {
        config: {
          name: "w",
          compatibilityDate: "2025-09-01",
          manifest: { mainModule: "w.js", modules: { "w.js": { type: "esm", contents: code } } },
          env: env as never,
        },
        dev: { unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }] },
      },
    ],
  });
  await mf.ready;
  return { mf, url: (await mf.unsafeGetDirectURL("w")).href, close: () => mf.dispose() };
}

/** Stands in for the orchestrator's heartbeat endpoint: takes every heartbeat, answers 204. */
async function standInOrchestrator(): Promise<{ url: string; heartbeats: () => number; close(): Promise<void> }> {
  let count = 0;
  const server = http.createServer((req, res) => {
    req.resume().on("end", () => {
      count++;
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    heartbeats: () => count,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

// The smallest Worker that runs the agent, written as the README shows it (the package's own
// `clawdbot-orchestrator/edge` export), bundled as a release bundles it, then minified.
const MINIMAL_AGENT_WORKER = `
import { Hono } from "hono";
import { createEdgeAgent } from "clawdbot-orchestrator/edge";
const agent = createEdgeAgent();
const app = new Hono();
app.route("/orchestrator", agent.app);
app.get("/", (c) => c.text("ok"));
export default agent.wrap(app);
`;

async function bundleSize(): Promise<Array<ReturnType<typeof atMost>>> {
  const out = await build({
    ...WORKER_BUILD_OPTIONS,
    conditions: [...WORKER_BUILD_OPTIONS.conditions],
    mainFields: [...WORKER_BUILD_OPTIONS.mainFields],
    external: [...WORKER_BUILD_OPTIONS.external],
    stdin: { contents: MINIMAL_AGENT_WORKER, resolveDir: ROOT, loader: "ts" },
    minify: true,
    metafile: true,
  });
  const code = out.outputFiles[0]!.contents;
  const inputs = Object.values(out.metafile.outputs)[0]!.inputs;
  const share = (re: RegExp) =>
    Object.entries(inputs)
      .filter(([path]) => re.test(path))
      .reduce((n, [, i]) => n + i.bytesInOutput, 0) / 1024;
  return [
    atMost("edge-agent.bundle_kb", code.length / 1024, "KB", 150, {
      gzip_kb: round(gzipSync(code, { level: 9 }).length / 1024, 1),
      zod_kb: round(share(/node_modules\/zod\//), 1),
      hono_kb: round(share(/node_modules\/hono\//), 1),
      agent_kb: round(share(/^src\//), 1),
      measured: "minified esbuild bundle (release options + minify) of a Hono Worker mounting the agent",
    }),
  ];
}

export const benchmarks: Benchmark[] = [
  { name: "edge-agent.bundle_kb", run: bundleSize },
  {
    name: "edge-agent.rps_ratio_with_vs_without",
    async run(ctx) {
      const orchestrator = await standInOrchestrator();
      const key = await generateEd25519KeyPair();
      const [plainCode, noopCode, agentCode, wrapCode] = await Promise.all([
        bundle(WITHOUT_AGENT),
        bundle(NOOP_MIDDLEWARE),
        bundle(WITH_AGENT),
        bundle(WITH_AGENT_WRAP),
      ]);
      const plainEnv = { GREETING: { type: "text", value: "Hello" }, CBO_VERSION: { type: "version-metadata" } };
      const without = await serve(plainCode, plainEnv);
      const noop = await serve(noopCode, plainEnv);
      const agentEnv = {
        CBO_WORKER: { type: "text", value: "hello" },
        CBO_TARGET: { type: "text", value: "eu" },
        CBO_ORCHESTRATOR_URL: { type: "text", value: orchestrator.url },
        CBO_PUBLIC_KEY: { type: "text", value: await exportEd25519PublicKey(key.publicKey) },
        CBO_WORKER_KEY: { type: "text", value: bytesToBase64url(generateHmacKey()) },
        CBO_SECRET_VERSIONS: { type: "json", value: {} },
        CBO_VERSION: { type: "version-metadata" },
        CBO_CONFIG: { type: "kv" },
      };
      const withAgent = await serve(agentCode, agentEnv);
      const wrapped = await serve(wrapCode, agentEnv);
      const bundleJson = JSON.stringify(
        await signConfigBundle({ worker: "hello", target: "eu", version: 1, config: { greeting: "Hello" } }, key.privateKey),
      );
      for (const s of [withAgent, wrapped]) await (await s.mf.getKVNamespace("CBO_CONFIG")).put(configKvKey("hello"), bundleJson);

      const runs: Record<"without" | "noop" | "with" | "wrap", LoadResult[]> = { without: [], noop: [], with: [], wrap: [] };
      const variants = [
        ["without", without],
        ["noop", noop],
        ["with", withAgent],
        ["wrap", wrapped],
      ] as const;
      try {
        for (let round = 0; round < ROUNDS; round++) {
          for (let i = 0; i < variants.length; i++) {
            const [name, target] = variants[(i + round) % variants.length]!;
            runs[name].push(await measureLoad({ ...LOAD, url: target.url, expectBody: EXPECTED_BODY }));
          }
          ctx.log(`round ${round + 1}: ${variants.map(([name]) => `${name} ${runs[name].at(-1)!.rps.toFixed(0)}`).join(", ")} req/s`);
        }
        const health = (await (await fetch(new URL("/orchestrator/health", withAgent.url))).json()) as {
          requests: unknown;
          heartbeat: unknown;
          problems: unknown;
        };
        ctx.log(
          `agent health after the runs: ${JSON.stringify({ requests: health.requests, heartbeat: health.heartbeat, problems: health.problems })}`,
        );
      } finally {
        await without.close();
        await noop.close();
        await withAgent.close();
        await wrapped.close();
        await orchestrator.close();
      }
      const best = (r: LoadResult[]) => r.reduce((a, b) => (b.rps > a.rps ? b : a));
      const method = {
        connections: LOAD.connections,
        duration_sec: LOAD.durationSec,
        rounds: ROUNDS,
        statistic: "median of per-round ratios",
      };
      const detail = (r: LoadResult[]) => ({
        connections: LOAD.connections,
        duration_sec: LOAD.durationSec,
        runs: r.map((x) => round(x.rps, 1)),
        best_of: "rps is the best round",
        latency_p50_ms: best(r).latencyP50Ms,
        latency_p99_ms: best(r).latencyP99Ms,
        // Responses that were not 2xx with the expected body, and socket errors (want 0).
        bad_responses: r.reduce((n, x) => n + x.non2xx + x.mismatches, 0),
        errors: r.reduce((n, x) => n + x.errors + x.timeouts, 0),
      });
      for (const [name, r] of Object.entries(runs)) {
        const bad = detail(r);
        if (bad.bad_responses + bad.errors > 0) throw new Error(`the "${name}" Worker answered wrongly under load: ${JSON.stringify(bad)}`);
      }
      const pairedRatio = (a: LoadResult[], b: LoadResult[]) => {
        const ratios = a.map((x, i) => x.rps / b[i]!.rps);
        return { value: median(ratios), ratios: ratios.map((r) => round(r)) };
      };
      const wrapVsWithout = pairedRatio(runs.wrap, runs.without);
      const middlewareVsWithout = pairedRatio(runs.with, runs.without);
      const noopVsWithout = pairedRatio(runs.noop, runs.without);
      return [
        atLeast("edge-agent.rps_ratio_with_vs_without", wrapVsWithout.value, "ratio", 0.95, {
          ...method,
          integration: "agent.wrap(app) + app.route('/orchestrator', agent.app)",
          per_round: wrapVsWithout.ratios,
        }),
        info("edge-agent.rps_ratio_middleware_vs_without", middlewareVsWithout.value, "ratio", {
          ...method,
          integration: "app.use(agent.middleware) + app.route('/orchestrator', agent.app)",
          per_round: middlewareVsWithout.ratios,
        }),
        // For scale: any one Hono middleware, even an empty one, takes Hono off its fast path.
        info("edge-agent.rps_ratio_noop_middleware_vs_without", noopVsWithout.value, "ratio", {
          ...method,
          per_round: noopVsWithout.ratios,
        }),
        info("edge-agent.rps_with_agent_wrap", best(runs.wrap).rps, "req/s", detail(runs.wrap)),
        info("edge-agent.rps_with_agent_middleware", best(runs.with).rps, "req/s", detail(runs.with)),
        info("edge-agent.rps_without_agent", best(runs.without).rps, "req/s", detail(runs.without)),
        info("edge-agent.rps_noop_middleware", best(runs.noop).rps, "req/s", detail(runs.noop)),
        info("edge-agent.heartbeats_received", orchestrator.heartbeats(), "count", {
          note: "from the two agent Workers over all rounds, at most one per 30 s interval per isolate",
        }),
      ];
    },
  },
];
