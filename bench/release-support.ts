// Shared pieces of the `release.*` benchmarks: a three-region local edge, target runtimes built
// as the daemon builds them, a fleet written to disk as orchestrator.yaml + entry files, the
// release engine when it exists, and checks of what a region actually serves.
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createCloudflareClient, type CloudflareClientOptions } from "../src/cloudflare/index.ts";
import { parseSpec, resolveSpec, type ResolvedSpec } from "../src/config/load.ts";
import type { Engine, EngineDeps } from "../src/deploy/types.ts";
import type { TargetRuntime } from "../src/targets/types.ts";
import { startLocalEdge } from "../src/local-edge/index.ts";
import type { LocalEdge } from "../src/local-edge/types.ts";
import type { BenchContext } from "./types.ts";

export const REGIONS = ["eu", "us", "ap"] as const;
export const repoRoot = fileURLToPath(new URL("../", import.meta.url));

/** One three-region local edge for all `release.*` benchmarks of a run. */
export async function sharedReleaseEdge(ctx: BenchContext): Promise<LocalEdge> {
  const { edge } = await ctx.shared(
    "release-edge",
    async () => {
      const dataDir = await mkdtemp(join(tmpdir(), "cbo-bench-release-edge-"));
      const started = performance.now();
      const edge = await startLocalEdge({ dataDir, regions: [...REGIONS] });
      ctx.log(`3-region local edge up in ${(performance.now() - started).toFixed(0)} ms`);
      return { edge, dataDir };
    },
    async ({ edge, dataDir }) => {
      await edge.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  );
  return edge;
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `cbo-bench-${prefix}-`));
}

/** A Worker answering `{"v": tag}`; a bad one answers 500 to every request, probes included. */
export function benchWorkerSource(tag: string, opts: { bad?: boolean } = {}): string {
  return `export default {
  fetch() {
    return new Response(JSON.stringify({ v: ${JSON.stringify(tag)} }), { status: ${opts.bad ? 500 : 200}, headers: { "content-type": "application/json" } });
  },
};
`;
}

/**
 * A target runtime per region, as the daemon builds them for `api: local` targets. All share one
 * transport (one token, one budget) through forAccount.
 */
export function localRuntimes(
  edge: LocalEdge,
  opts: Omit<CloudflareClientOptions, "apiToken" | "baseUrl"> = {},
): Map<string, TargetRuntime> {
  const client = createCloudflareClient({ ...opts, baseUrl: edge.apiUrl, apiToken: edge.token });
  return new Map(
    edge.regions.map((r) => [
      r.name,
      {
        name: r.name,
        accountId: r.accountId,
        client: client.forAccount(r.accountId),
        endpoint: (w: string) => ({ url: `http://127.0.0.1:${r.port}/`, host: `${w}.localhost` }),
      },
    ]),
  );
}

export type FleetOptions = { waves?: string[][]; steps: number[]; gate: Record<string, number | string> };

/** Writes orchestrator.yaml (JSON is YAML) and returns its resolved spec; sources via writeSource. */
export function fleetSpec(dir: string, workers: string[], opts: FleetOptions): Promise<ResolvedSpec> {
  const doc = {
    version: 1,
    targets: REGIONS.map((name) => ({ name, api: "local" })),
    rollout: { ...(opts.waves ? { waves: opts.waves } : {}), steps: opts.steps, gate: opts.gate },
    workers: workers.map((name) => ({ name, main: `${name}.js`, compatibility_date: "2025-01-01" })),
  };
  const file = join(dir, "orchestrator.yaml");
  const text = JSON.stringify(doc, null, 2);
  return writeFile(file, text).then(() => resolveSpec(parseSpec(text, file), file));
}

export async function writeSource(dir: string, worker: string, source: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `${worker}.js`), source);
}

/** A gate that lets a good version through at once: no bake, one sample. */
export const NO_GATE = {
  probe_path: "/",
  interval_ms: 20,
  timeout_ms: 1000,
  failure_limit: 1,
  max_error_rate: 1,
  bake_ms: 0,
  min_samples: 1,
};

/** The release engine (src/deploy/index.ts), or why it cannot be used yet. */
export async function loadEngineFactory(): Promise<{ createEngine: (deps: EngineDeps) => Engine } | { missing: string }> {
  const file = join(repoRoot, "src", "deploy", "index.ts");
  if (!existsSync(file)) return { missing: "src/deploy/index.ts does not exist yet" };
  try {
    const mod = (await import(pathToFileURL(file).href)) as { createEngine?: (deps: EngineDeps) => Engine };
    if (typeof mod.createEngine !== "function") return { missing: "src/deploy/index.ts does not export createEngine" };
    return { createEngine: mod.createEngine };
  } catch (e) {
    return { missing: `src/deploy/index.ts failed to load: ${(e as Error).message}` };
  }
}

/** What a region serves for `worker` (its `v` tag, or `HTTP <status>`); optional version pin. */
export function served(port: number, worker: string, pinVersion?: string): Promise<string> {
  const headers: Record<string, string> = { host: `${worker}.localhost` };
  if (pinVersion) headers["cloudflare-workers-version-overrides"] = `${worker}="${pinVersion}"`;
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/", headers, agent: false, timeout: 5_000 }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (d: string) => (body += d));
      res.on("end", () => {
        if (res.statusCode !== 200) return resolve(`HTTP ${res.statusCode}`);
        try {
          resolve(String((JSON.parse(body) as { v: unknown }).v));
        } catch {
          resolve(`unparsable: ${body.slice(0, 100)}`);
        }
      });
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", reject);
    req.end();
  });
}

/**
 * Polls every region at once until each serves `tag` for `worker`; resolves with the moment the
 * last one did (performance.now()). `pin` sends the version-override header for that version.
 */
export async function untilServing(
  edge: LocalEdge,
  worker: string,
  tag: string,
  opts: { pin?: string; timeoutMs?: number; pollMs?: number } = {},
): Promise<number> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const deadline = performance.now() + timeoutMs;
  const times = await Promise.all(
    edge.regions.map(async (r) => {
      let last = "";
      for (;;) {
        try {
          last = await served(r.port, worker, opts.pin);
        } catch (e) {
          last = (e as Error).message;
        }
        if (last === tag) return performance.now();
        if (performance.now() > deadline)
          throw new Error(`${worker}: region ${r.name} did not serve ${tag} within ${timeoutMs} ms (last: ${last})`);
        await new Promise((res) => setTimeout(res, opts.pollMs ?? 10));
      }
    }),
  );
  return Math.max(...times);
}

/** Most entries of sorted-or-not `times` (ms) inside any window of `windowMs`. */
export function maxInWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    while (sorted[hi]! - sorted[lo]! >= windowMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}
