// Issue 13's figures on the example fleet (examples/: ads-attribution, ads-api, ads-conversions,
// wrangler projects with D1 + migrations, a Durable Object, a queue and its consumer, R2, assets,
// a cron), on a fresh three-region local edge:
//   fleet.release_vs_wrangler_ratio   the fleet released by the orchestrator to eu, us and ap,
//                                     each Worker in one wave of the three targets, ÷ the same fleet
//                                     deployed with three sequential `wrangler deploy` runs per
//                                     Worker (one per region's account); both timed in this run,
//                                     medians of BENCH_FLEET_REPS (2) code changes after a first
//                                     deploy that is not counted. Goal <= 0.5.
//   fleet.one_asset_change_bytes_ratio  bytes the next release uploads after one of ads-api's
//                                     assets changed ÷ the assets' total bytes, per target (goal:
//                                     the changed file's share exactly, i.e. nothing else sent).
// The orchestrator runs as the daemon does (startDaemon: vault, relayed secret, edge agent). The
// gate is a bench gate, said here and in each line: steps [100], probe /health every 20 ms, bake
// 0 ms, one sample; the example's own rollout (canary wave, 10 -> 50 -> 100%, 600 ms bakes) is
// about safety, not speed. Our release also applies the D1 migrations and sets the cron and the
// queue consumer; `wrangler deploy` provisions resources and sets triggers, but applies no D1
// migration (that is `wrangler d1 migrations apply`, not timed).
import { appendFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDaemon, type Daemon } from "../src/daemon.ts";
import { startLocalEdge } from "../src/local-edge/index.ts";
import type { LocalEdge } from "../src/local-edge/types.ts";
import type { StoredEvent } from "../src/store/index.ts";
import { generateKeyFile } from "../src/vault/index.ts";
import { writeExampleProject } from "../test/support/example-project.ts";
import { createWranglerProject, describeRun } from "../test/support/wrangler.ts";
import { repoRoot } from "./release-support.ts";
import { atMost, median, round, type Benchmark, type BenchContext, type BenchResult } from "./types.ts";

const REGIONS = ["eu", "us", "ap"];
const WORKERS = ["ads-attribution", "ads-api", "ads-conversions"];
const BENCH_GATE = {
  probe_path: "/health",
  interval_ms: 20,
  timeout_ms: 2000,
  failure_limit: 1,
  max_error_rate: 1,
  bake_ms: 0,
  min_samples: 1,
};
const GATE_TEXT = "bench gate: steps [100], one wave of eu+us+ap per Worker, probe /health every 20 ms, bake 0 ms, 1 sample";

const reps = () => {
  const n = Number(process.env.BENCH_FLEET_REPS ?? "2");
  if (!Number.isInteger(n) || n < 1) throw new Error(`BENCH_FLEET_REPS must be a positive integer, got ${process.env.BENCH_FLEET_REPS}`);
  return n;
};
const sec = (ms: number) => round(ms / 1000);

async function freshEdge(ctx: BenchContext, label: string): Promise<{ edge: LocalEdge; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), `cbo-bench-fleet-${label}-`));
  const t0 = performance.now();
  const edge = await startLocalEdge({ dataDir: join(dir, "edge"), regions: REGIONS });
  ctx.log(`${label}: 3-region local edge up in ${(performance.now() - t0).toFixed(0)} ms`);
  return { edge, dir };
}

/** The example fleet in `dir` (its wrangler projects, node_modules linked), with the bench rollout. */
async function exampleWithBenchGate(dir: string): Promise<string> {
  writeExampleProject(dir);
  const spec = (await readFile(join(repoRoot, "examples", "orchestrator.yaml"), "utf8")).replace(
    /^rollout:\n(?: {2}.*\n| {4}.*\n)+/m,
    `rollout:\n  waves: [[eu, us, ap]]\n  steps: [100]\n  gate: ${JSON.stringify(BENCH_GATE)}\n`,
  );
  if (!spec.includes("steps: [100]")) throw new Error("could not put the bench rollout into the example's orchestrator.yaml");
  await writeFile(join(dir, "orchestrator.yaml"), spec);
  return join(dir, "orchestrator.yaml");
}

/** A change of every Worker's code (a comment at the end of its entry), so each release uploads a new version. */
async function touchCode(root: string, rep: number): Promise<void> {
  for (const w of WORKERS) await appendFile(join(root, w, "src", "index.ts"), `\n// bench rep ${rep}\n`);
}

type Ours = { daemon: Daemon; token: string; root: string; edge: LocalEdge; dir: string };

async function startOurs(ctx: BenchContext): Promise<Ours> {
  const { edge, dir } = await freshEdge(ctx, "orchestrator");
  const root = join(dir, "project");
  const specFile = await exampleWithBenchGate(root);
  const keyFile = join(dir, "master.key");
  generateKeyFile(keyFile);
  const daemon = await startDaemon({
    dataDir: join(dir, "data"),
    configFile: specFile,
    edge,
    masterKeyFile: keyFile,
    env: {},
    port: 0,
    monitorIntervalMs: 5_000,
    log: () => {},
  });
  const token = daemon.initialAdminToken!;
  const res = await fetch(new URL("/v1/secrets/SHOPIFY_WEBHOOK_SECRET", daemon.url), {
    method: "PUT",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ value: `bench-${crypto.randomUUID()}`, mode: "relay" }),
  });
  if (!res.ok) throw new Error(`setting the webhook secret: ${res.status} ${await res.text()}`);
  return { daemon, token, root, edge, dir };
}

/** The whole fleet released in the spec's order (as `cbo up` does); ms. */
async function releaseFleet(o: Ours): Promise<{ ms: number; releases: string[] }> {
  const t0 = performance.now();
  const releases: string[] = [];
  for (const w of WORKERS) {
    const r = await o.daemon.engine.wait((await o.daemon.engine.release(w, { by: "bench" })).id);
    if (r.status !== "succeeded") throw new Error(`release of ${w} ended ${r.status}: ${r.reason}`);
    releases.push(r.id);
  }
  return { ms: performance.now() - t0, releases };
}

async function releaseVsWrangler(ctx: BenchContext): Promise<BenchResult[]> {
  const n = reps();
  const ours = await startOurs(ctx);
  const ourMs: number[] = [];
  let assets: BenchResult[] = [];
  try {
    for (let i = 0; i <= n; i++) {
      if (i > 0) await touchCode(ours.root, i);
      const { ms } = await releaseFleet(ours);
      if (i > 0) ourMs.push(ms);
      ctx.log(`orchestrator: the fleet to 3 regions (rep ${i}${i === 0 ? ", first deploy, not counted" : ""}): ${ms.toFixed(0)} ms`);
    }
    assets = await oneAssetChange(ctx, ours);
  } finally {
    await ours.daemon.close();
    await ours.edge.close();
    await rm(ours.dir, { recursive: true, force: true });
  }

  const theirs = await freshEdge(ctx, "wrangler");
  const wranglerMs: number[] = [];
  const single: number[] = [];
  try {
    // One copy of the fleet per region (each deploys to its own account), node_modules linked.
    const copies = new Map<string, string>();
    const projects = new Map<string, Awaited<ReturnType<typeof createWranglerProject>>>();
    for (const r of theirs.edge.regions) {
      const root = join(theirs.dir, `fleet-${r.name}`);
      writeExampleProject(root);
      copies.set(r.name, root);
      for (const w of WORKERS) projects.set(`${r.name}/${w}`, await createWranglerProject(join(root, w), theirs.edge, r.accountId));
    }
    for (let i = 0; i <= n; i++) {
      if (i > 0) for (const root of copies.values()) await touchCode(root, i);
      const t0 = performance.now();
      for (const w of WORKERS) {
        for (const r of REGIONS) {
          const t = performance.now();
          const run = await projects.get(`${r}/${w}`)!.run(["deploy"], { timeoutMs: 180_000 });
          if (run.code !== 0) throw new Error(describeRun(run));
          if (i > 0) single.push(performance.now() - t);
        }
      }
      const ms = performance.now() - t0;
      if (i > 0) wranglerMs.push(ms);
      ctx.log(
        `wrangler: 3 sequential deploys x ${WORKERS.length} Workers (rep ${i}${i === 0 ? ", first deploy, not counted" : ""}): ${ms.toFixed(0)} ms`,
      );
    }
  } finally {
    await theirs.edge.close();
    await rm(theirs.dir, { recursive: true, force: true });
  }
  return [
    atMost("fleet.release_vs_wrangler_ratio", median(ourMs) / median(wranglerMs), "ratio", 0.5, {
      reps: n,
      workers: WORKERS,
      ours_s: sec(median(ourMs)),
      ours_samples_s: ourMs.map(sec),
      wrangler_9_sequential_s: sec(median(wranglerMs)),
      wrangler_samples_s: wranglerMs.map(sec),
      wrangler_single_deploy_median_s: sec(median(single)),
      gate: GATE_TEXT,
    }),
    ...assets,
  ];
}

/** Grows ads-api's assets to 40 files, releases, changes one, releases again: what the second release sends. */
async function oneAssetChange(ctx: BenchContext, o: Ours): Promise<BenchResult[]> {
  const pub = join(o.root, "ads-api", "public");
  for (let i = 0; i < 39; i++)
    await writeFile(join(pub, `page-${i}.html`), `<h1>page ${i}</h1>\n${"<p>lorem ipsum</p>\n".repeat(50 + i * 20)}`);
  const release = async () => {
    const r = await o.daemon.engine.wait((await o.daemon.engine.release("ads-api", { by: "bench" })).id);
    if (r.status !== "succeeded") throw new Error(`release of ads-api ended ${r.status}: ${r.reason}`);
    return r.id;
  };
  await release();
  const changed = join(pub, "page-7.html");
  await appendFile(changed, "<p>changed</p>\n");
  const plan = (await (
    await fetch(new URL("/v1/workers/ads-api/plan", o.daemon.url), { headers: { authorization: `Bearer ${o.token}` } })
  ).json()) as { targets: Array<{ name: string; assets: { files: number; bytes: number; upload: number; uploadBytes: number } }> };
  const id = await release();
  const sent = o.daemon.store.events
    .list({ releaseId: id })
    .filter((e: StoredEvent) => e.type === "release.phase.done" && e.data.phase === "assets")
    .map((e) => ({ target: e.target!, uploaded: Number(e.data.uploaded ?? 0), bytes: Number(e.data.bytes ?? 0) }));
  if (sent.length !== REGIONS.length)
    throw new Error(`expected an assets phase on each of ${REGIONS.join(", ")}, got ${JSON.stringify(sent)}`);
  const total = plan.targets[0]!.assets.bytes;
  const changedBytes = (await readFile(changed)).byteLength;
  const worst = Math.max(...sent.map((s) => s.bytes));
  ctx.log(`one changed asset: ${JSON.stringify(sent)} of ${plan.targets[0]!.assets.files} files, ${total} bytes`);
  // Passes when every target got exactly the changed file's bytes, nothing more.
  const share = changedBytes / total;
  return [
    {
      name: "fleet.one_asset_change_bytes_ratio",
      value: round(worst / total, 5),
      unit: "ratio",
      goal: `<= ${round(share, 5)} (the changed file only)`,
      pass: sent.every((x) => x.uploaded === 1 && x.bytes === changedBytes),
      files: plan.targets[0]!.assets.files,
      total_bytes: total,
      changed_file_bytes: changedBytes,
      per_target: sent,
      planned: plan.targets.map((t) => ({ target: t.name, upload: t.assets.upload, uploadBytes: t.assets.uploadBytes })),
    },
  ];
}

export const benchmarks: Benchmark[] = [{ name: "fleet.example", run: releaseVsWrangler }];
