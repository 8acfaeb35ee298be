// Issue 15's canary figure: time from the first bad request of a canary to every target back on
// the previous version, on the local edge with 50 req/s of real traffic (goal ≤ 3 s).
//
// Two regions (eu, us) in one wave, steps [50, 100]; probes on /health, which the bad version
// answers perfectly: only the canary analysis (the regions' GraphQL analytics, canary vs baseline
// by scriptVersion) can see that it throws on half of /checkout. The clock starts at the first 5xx
// the traffic generator gets back and stops when the release is rolled_back (the engine reports it
// once every touched target serves the previous version again; checked on the edge after).
// Analysis settings: interval_ms 250, min_requests 10 (said in the line). Env: BENCH_CANARY_SAMPLES (5).
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSyntheticTraffic } from "../src/cli/launchers/synthetic-traffic.ts";
import { parseSpec, resolveSpec } from "../src/config/load.ts";
import { createEngine } from "../src/deploy/index.ts";
import { startLocalEdge } from "../src/local-edge/index.ts";
import { createStore } from "../src/store/index.ts";
import { localRuntimes } from "./release-support.ts";
import { atMost, median, round, type Benchmark, type BenchContext, type BenchResult } from "./types.ts";

const RATE = 50;
const ANALYSIS = { interval_ms: 250, min_requests: 10 };

const source = (tag: string, checkoutFail: number) => `
export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/checkout" && Math.random() < ${checkoutFail}) throw new Error("checkout broke");
    return new Response(${JSON.stringify(tag)});
  },
};
`;

const yaml = `version: 1
targets:
  - { name: eu, api: local }
  - { name: us, api: local }
rollout:
  waves: [[eu, us]]
  steps: [50, 100]
  gate: { probe_path: /health, bake_ms: 4000, min_samples: 10, interval_ms: 100 }
  analysis: ${JSON.stringify(ANALYSIS)}
workers:
  - { name: shop, main: shop.js, compatibility_date: "2025-01-01" }
`;

async function timeToRollback(ctx: BenchContext): Promise<BenchResult[]> {
  const samples = Number(process.env["BENCH_CANARY_SAMPLES"] ?? 5);
  const dir = await mkdtemp(join(tmpdir(), "cbo-bench-canary-"));
  const edge = await startLocalEdge({ dataDir: join(dir, "edge"), regions: ["eu", "us"] });
  const file = join(dir, "orchestrator.yaml");
  await writeFile(file, yaml);
  await writeFile(join(dir, "shop.js"), source("good", 0));
  const spec = resolveSpec(parseSpec(yaml, file), file);
  const runtimes = localRuntimes(edge);
  const store = createStore(join(dir, "state.db"));
  const engine = createEngine({ store, spec: () => spec, targets: () => runtimes });
  let firstBad: number | undefined;
  const traffic = startSyntheticTraffic({
    targets: edge.regions.map((r) => ({ port: r.port, host: "shop.localhost", paths: ["/checkout", "/items"] })),
    ratePerSec: RATE,
    onFailure: (at) => (firstBad ??= at),
  });
  try {
    const first = await engine.wait((await engine.release("shop")).id);
    if (first.status !== "succeeded") throw new Error(`the good version did not release: ${first.reason}`);
    const times: number[] = [];
    for (let i = 0; i < samples; i++) {
      await new Promise((r) => setTimeout(r, 1500)); // baseline traffic between samples
      await writeFile(join(dir, "shop.js"), source(`bad-${i}`, 0.5));
      firstBad = undefined;
      const started = await engine.release("shop");
      const done = await engine.wait(started.id);
      const back = performance.now();
      if (done.status !== "rolled_back") throw new Error(`sample ${i}: the bad version ended ${done.status}: ${done.reason}`);
      if (firstBad === undefined) throw new Error(`sample ${i}: no bad request was seen`);
      for (const [name, rt] of runtimes) {
        const [d] = await rt.client.listDeployments("shop");
        if (d?.versions.length !== 1 || d.versions[0]!.percentage !== 100) throw new Error(`sample ${i}: ${name} is not back at 100%`);
      }
      times.push(back - firstBad);
      ctx.log(`canary sample ${i + 1}/${samples}: ${round((back - firstBad) / 1000)} s (${done.reason?.slice(0, 120)})`);
    }
    const stats = traffic.stats();
    return [
      atMost("canary.time_to_rollback_s", Math.max(...times) / 1000, "s", 3, {
        median_s: round(median(times) / 1000),
        samples_s: times.map((t) => round(t / 1000)),
        rate_per_s: RATE,
        requests: stats.sent,
        setup:
          "2 regions in one wave, steps [50,100], /health probes pass, 50% of /checkout throws; analysis interval 250 ms, min_requests 10; value = the worst sample",
      }),
    ];
  } finally {
    await traffic.stop();
    await engine.close();
    store.close();
    await edge.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export const benchmarks: Benchmark[] = [{ name: "canary.time_to_rollback_s", run: timeToRollback }];
