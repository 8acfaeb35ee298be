// The local edge, measured from outside as wrangler and the orchestrator see it: the Cloudflare API
// for upload + deploy, and a region's public port for serving. One local edge (region "eu") is
// shared by all `edge.*` benchmarks of a run.
import { mkdtemp, rm } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLocalEdge } from "../src/local-edge/index.ts";
import type { LocalEdge } from "../src/local-edge/types.ts";
import { startBareMiniflare, TRIVIAL_WORKER } from "./bare-miniflare.ts";
import { measureLoad, type LoadResult } from "./load.ts";
import { atLeast, atMost, info, median, percentile, round, type Benchmark, type BenchContext } from "./types.ts";

const ROUNDTRIP_SAMPLES = 30;
const SERVING_SAMPLES = 20;
const SERVING_TIMEOUT_MS = 15_000;
const LOAD = { connections: 32, durationSec: 5, warmupSec: 1 };

/** A second edge, the same but with invocation counting off: the baseline of the counting cost. */
async function uncountedEdge(ctx: BenchContext): Promise<LocalEdge> {
  const { edge } = await ctx.shared(
    "local-edge-uncounted",
    async () => {
      const dataDir = await mkdtemp(join(tmpdir(), "cbo-bench-edge-uncounted-"));
      return { edge: await startLocalEdge({ dataDir, regions: ["eu"], analytics: false }), dataDir };
    },
    async ({ edge, dataDir }) => {
      await edge.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  );
  return edge;
}

/** Requests the edge counted for a script (GraphQL workersInvocationsAdaptive, as the orchestrator reads it). */
async function countedRequests(edge: LocalEdge, script: string): Promise<number> {
  const query = `query($acct: string!, $script: string!) { viewer { accounts(filter: {accountTag: $acct}) {
    workersInvocationsAdaptive(limit: 1, filter: {scriptName: $script}) { sum { requests } } } } }`;
  const res = await fetch(`${edge.apiUrl}/graphql`, {
    method: "POST",
    headers: { authorization: `Bearer ${edge.token}`, "content-type": "application/json" },
    body: JSON.stringify({ query, variables: { acct: edge.regions[0]!.accountId, script } }),
  });
  const body = (await res.json()) as {
    data?: { viewer: { accounts: Array<{ workersInvocationsAdaptive: Array<{ sum: { requests: number } }> }> } };
    errors: unknown;
  };
  if (!res.ok || !body.data) throw new Error(`GraphQL answered ${res.status}: ${JSON.stringify(body.errors)}`);
  return body.data.viewer.accounts[0]!.workersInvocationsAdaptive[0]?.sum.requests ?? 0;
}

async function sharedEdge(ctx: BenchContext): Promise<LocalEdge> {
  const { edge } = await ctx.shared(
    "local-edge",
    async () => {
      const dataDir = await mkdtemp(join(tmpdir(), "cbo-bench-edge-"));
      const started = performance.now();
      const edge = await startLocalEdge({ dataDir, regions: ["eu"] });
      ctx.log(`local edge up in ${(performance.now() - started).toFixed(0)} ms: api ${edge.apiUrl}, eu ${edge.regions[0]!.publicUrl}`);
      return { edge, dataDir };
    },
    async ({ edge, dataDir }) => {
      await edge.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  );
  return edge;
}

// --- the Cloudflare API, as wrangler calls it -----------------------------------------------------

const workerCode = (body: string) => `export default { fetch() { return new Response(${JSON.stringify(body)}) } }`;

async function callApi(edge: LocalEdge, method: string, path: string, body: FormData | object): Promise<Record<string, unknown>> {
  const url = `${edge.apiUrl}${path}`;
  const isForm = body instanceof FormData;
  const res = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${edge.token}`, ...(isForm ? {} : { "content-type": "application/json" }) },
    body: isForm ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let envelope: { success?: boolean; result?: Record<string, unknown> } | undefined;
  try {
    envelope = JSON.parse(text);
  } catch {
    // reported below
  }
  if (!res.ok || envelope?.success !== true || envelope.result === undefined) {
    const sent = isForm ? `multipart form (fields: ${[...body.keys()].join(", ")})` : JSON.stringify(body);
    throw new Error(`${method} ${url} with ${sent} -> HTTP ${res.status}: ${text.slice(0, 2000)}`);
  }
  return envelope.result;
}

/** Wrangler's multipart upload form: metadata plus one ES module. */
function uploadForm(code: string): FormData {
  const form = new FormData();
  form.set("metadata", JSON.stringify({ main_module: "index.js", compatibility_date: "2025-01-01", bindings: [] }));
  form.set("index.js", new File([code], "index.js", { type: "application/javascript+module" }));
  return form;
}

const scriptPath = (edge: LocalEdge, script: string) => `/accounts/${edge.regions[0]!.accountId}/workers/scripts/${script}`;

/**
 * Creates (or replaces) and deploys a script in one call, as `wrangler deploy` does. Versions can
 * only be uploaded to a script that exists (Cloudflare answers 10007 otherwise), so every
 * benchmark starts with this, untimed.
 */
async function createScript(edge: LocalEdge, script: string, code: string): Promise<void> {
  await callApi(edge, "PUT", scriptPath(edge, script), uploadForm(code));
}

/** Uploads a version without deploying it (`wrangler versions upload`); returns its id. */
async function uploadVersion(edge: LocalEdge, script: string, code: string): Promise<string> {
  const result = await callApi(edge, "POST", `${scriptPath(edge, script)}/versions`, uploadForm(code));
  if (typeof result.id !== "string") throw new Error(`version upload answered no result.id: ${JSON.stringify(result)}`);
  return result.id;
}

function deployVersion(edge: LocalEdge, script: string, versionId: string): Promise<Record<string, unknown>> {
  return callApi(edge, "POST", `${scriptPath(edge, script)}/deployments`, {
    strategy: "percentage",
    versions: [{ version_id: versionId, percentage: 100 }],
  });
}

// --- the region's public port ---------------------------------------------------------------------

/** GET / with a Host header (undici's fetch would replace it, hence node:http). */
function getViaHost(port: number, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/", headers: { host }, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

type SwitchObservation = { ms: number; polls: number; failures: number; last: string };

/**
 * Polls until the Worker answers `expected`; returns when, counted from `since`. `failed()` lets
 * a concurrent deployment call stop the wait with its own error.
 */
async function waitForBody(
  port: number,
  host: string,
  expected: string,
  since: number,
  failed: () => Error | undefined = () => undefined,
): Promise<SwitchObservation> {
  let polls = 0;
  let failures = 0;
  let last = "";
  while (performance.now() - since < SERVING_TIMEOUT_MS) {
    const err = failed();
    if (err !== undefined) throw err;
    polls++;
    try {
      const res = await getViaHost(port, host);
      last = `HTTP ${res.status}: ${res.body.slice(0, 200)}`;
      if (res.status === 200 && res.body === expected) return { ms: performance.now() - since, polls, failures, last };
      if (res.status !== 200) failures++;
    } catch (err) {
      failures++;
      last = `request failed: ${(err as Error).message}`;
    }
  }
  throw new Error(
    `http://127.0.0.1:${port}/ (Host: ${host}) did not answer ${JSON.stringify(expected)} within ${SERVING_TIMEOUT_MS} ms; last: ${last}`,
  );
}

const hostOf = (script: string) => `${script}.localhost`;
const stats = (samples: number[]) => ({
  samples: samples.length,
  min: round(Math.min(...samples)),
  max: round(Math.max(...samples)),
});

// --- benchmarks -------------------------------------------------------------------------------------

export const benchmarks: Benchmark[] = [
  {
    // The cost of counting every invocation (issue 15): the same trivial Worker on an edge that
    // counts and on one that does not, alternated so that drift hits both alike; best of each.
    name: "edge.rps_counting_ratio",
    async run(ctx) {
      const counted = await sharedEdge(ctx);
      const uncounted = await uncountedEdge(ctx);
      const script = "bench-counting";
      for (const edge of [counted, uncounted]) {
        await createScript(edge, script, TRIVIAL_WORKER);
        await waitForBody(edge.regions[0]!.port, hostOf(script), "ok", performance.now());
      }
      const target = (edge: LocalEdge) => ({ url: `http://127.0.0.1:${edge.regions[0]!.port}/`, host: hostOf(script) });
      const runs: Record<"counting" | "without", LoadResult[]> = { counting: [], without: [] };
      for (let lap = 0; lap < 3; lap++) {
        for (const key of lap % 2 === 0 ? (["counting", "without"] as const) : (["without", "counting"] as const)) {
          runs[key].push(await measureLoad({ ...LOAD, ...target(key === "counting" ? counted : uncounted), expectBody: "ok" }));
          ctx.log(`${key}: ${runs[key].at(-1)!.rps.toFixed(0)} req/s`);
        }
      }
      const best = (r: LoadResult[]) => r.reduce((a, b) => (b.rps > a.rps ? b : a));
      // The counts are real: at least every 2xx the load generator saw (its warm-up adds more).
      const served = runs.counting.reduce((n, r) => n + r.ok, 0);
      const requests = await countedRequests(counted, script);
      if (requests < served) throw new Error(`the edge counted ${requests} requests but served at least ${served}`);
      const method = { connections: LOAD.connections, duration_sec: LOAD.durationSec, laps: 3 };
      const detail = (r: LoadResult[]) => ({
        ...method,
        runs: r.map((x) => round(x.rps, 1)),
        latency_p50_ms: best(r).latencyP50Ms,
        latency_p99_ms: best(r).latencyP99Ms,
      });
      return [
        atLeast("edge.rps_counting_ratio", best(runs.counting).rps / best(runs.without).rps, "ratio", 0.95, {
          ...method,
          counted_requests: requests,
          served_2xx: served,
        }),
        info("edge.rps_counting", best(runs.counting).rps, "req/s", detail(runs.counting)),
        info("edge.rps_without_counting", best(runs.without).rps, "req/s", detail(runs.without)),
      ];
    },
  },
  {
    name: "edge.deploy_roundtrip",
    async run(ctx) {
      const edge = await sharedEdge(ctx);
      const script = "bench-roundtrip";
      const total: number[] = [];
      const upload: number[] = [];
      const deploy: number[] = [];
      const created = performance.now();
      await createScript(edge, script, workerCode("roundtrip created"));
      ctx.log(`script created (PUT, untimed): ${(performance.now() - created).toFixed(0)} ms`);
      // Sample 0 warms up and is not counted.
      for (let i = 0; i <= ROUNDTRIP_SAMPLES; i++) {
        const t0 = performance.now();
        const id = await uploadVersion(edge, script, workerCode(`roundtrip ${i}`));
        const t1 = performance.now();
        await deployVersion(edge, script, id);
        const t2 = performance.now();
        if (i === 0) {
          ctx.log(`warm-up upload + deploy: ${(t2 - t0).toFixed(0)} ms`);
          continue;
        }
        total.push(t2 - t0);
        upload.push(t1 - t0);
        deploy.push(t2 - t1);
      }
      const split = {
        upload_median_ms: round(median(upload)),
        deploy_median_ms: round(median(deploy)),
      };
      return [
        atMost("edge.deploy_roundtrip_median_ms", median(total), "ms", 500, { ...stats(total), ...split }),
        atMost("edge.deploy_roundtrip_p95_ms", percentile(total, 95), "ms", 1000, { ...stats(total), ...split }),
      ];
    },
  },
  {
    name: "edge.deploy_to_serving_ms",
    async run(ctx) {
      const edge = await sharedEdge(ctx);
      const { port } = edge.regions[0]!;
      const script = "bench-serving";
      const host = hostOf(script);
      const first = `serving initial ${crypto.randomUUID()}`;
      await createScript(edge, script, workerCode(first));
      await waitForBody(port, host, first, performance.now());

      const toServing: number[] = [];
      const deployCall: number[] = [];
      let failures = 0;
      for (let i = 0; i < SERVING_SAMPLES; i++) {
        const body = `serving ${i} ${crypto.randomUUID()}`;
        const id = await uploadVersion(edge, script, workerCode(body));
        const t0 = performance.now();
        // Poll while the deployment call is in flight: serving may start before it answers.
        let deployError: Error | undefined;
        const deploying = deployVersion(edge, script, id).then(
          () => void deployCall.push(performance.now() - t0),
          (err: Error) => void (deployError = err),
        );
        const seen = await waitForBody(port, host, body, t0, () => deployError);
        await deploying;
        if (deployError !== undefined) throw deployError;
        toServing.push(seen.ms);
        failures += seen.failures;
      }
      return [
        atMost("edge.deploy_to_serving_ms", median(toServing), "ms", 1000, {
          ...stats(toServing),
          p95_ms: round(percentile(toServing, 95)),
          deploy_call_median_ms: round(median(deployCall)),
          // Non-200 answers or refused connections seen while switching versions (want 0).
          failed_polls: failures,
        }),
      ];
    },
  },
  {
    name: "edge.rps_ratio_vs_bare_miniflare",
    async run(ctx) {
      const edge = await sharedEdge(ctx);
      const { port } = edge.regions[0]!;
      const script = "bench-rps";
      await createScript(edge, script, TRIVIAL_WORKER);
      await waitForBody(port, hostOf(script), "ok", performance.now());
      const bare = await startBareMiniflare();
      const direct = await startBareMiniflare({ directSocket: true });
      const targets = {
        bare: { url: bare.url },
        direct: { url: direct.url },
        edge: { url: `http://127.0.0.1:${port}/`, host: hostOf(script) },
      };
      const runs: Record<keyof typeof targets, LoadResult[]> = { bare: [], direct: [], edge: [] };
      try {
        // Alternate so that drift (thermal, other processes) hits all alike; keep the best of each.
        for (let lap = 0; lap < 2; lap++) {
          for (const key of ["bare", "direct", "edge"] as const) {
            runs[key].push(await measureLoad({ ...LOAD, ...targets[key], expectBody: "ok" }));
            ctx.log(`${key}: ${runs[key].at(-1)!.rps.toFixed(0)} req/s`);
          }
        }
      } finally {
        await bare.close();
        await direct.close();
      }
      const best = (r: LoadResult[]) => r.reduce((a, b) => (b.rps > a.rps ? b : a));
      const method = { connections: LOAD.connections, duration_sec: LOAD.durationSec };
      const detail = (r: LoadResult[]) => ({
        ...method,
        runs: r.map((x) => round(x.rps, 1)),
        latency_p50_ms: best(r).latencyP50Ms,
        latency_p99_ms: best(r).latencyP99Ms,
        // Responses that were not 2xx "ok", and socket errors, over all runs (want 0).
        bad_responses: r.reduce((n, x) => n + x.non2xx + x.mismatches, 0),
        errors: r.reduce((n, x) => n + x.errors + x.timeouts, 0),
      });
      const edgeRps = best(runs.edge).rps;
      const bareRps = best(runs.bare).rps;
      const directRps = best(runs.direct).rps;
      return [
        atLeast("edge.rps_ratio_vs_bare_miniflare", edgeRps / bareRps, "ratio", 0.8, method),
        info("edge.rps_edge", edgeRps, "req/s", detail(runs.edge)),
        info("edge.rps_bare", bareRps, "req/s", detail(runs.bare)),
        // Bare Miniflare through its entry Worker (above) pays a hop the edge's direct socket does
        // not; this is the same Worker on a direct socket, the stricter baseline.
        info("edge.rps_bare_direct_socket", directRps, "req/s", detail(runs.direct)),
        info("edge.rps_ratio_vs_bare_direct_socket", edgeRps / directRps, "ratio", method),
      ];
    },
  },
];
