// The release engine's test rig: target runtimes over a real local edge (built as the daemon
// builds them for `api: local` targets), a fleet written to a temp dir as orchestrator.yaml plus
// entry files, and reads of what each region serves, through the API and over HTTP.
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { createCloudflareClient } from "../../src/cloudflare/index.ts";
import { parseSpec, resolveSpec, type ResolvedSpec } from "../../src/config/load.ts";
import type { TargetRuntime } from "../../src/targets/types.ts";
import type { LocalEdge } from "../../src/local-edge/types.ts";
import { httpGet } from "./http.ts";

/** What a child process needs to reach the edge (the token travels in an env var, never argv). */
export type EdgeInfo = { apiUrl: string; token: string; regions: Array<{ name: string; accountId: string; port: number }> };

export function edgeInfo(edge: LocalEdge): EdgeInfo {
  return {
    apiUrl: edge.apiUrl,
    token: edge.token,
    regions: edge.regions.map((r) => ({ name: r.name, accountId: r.accountId, port: r.port })),
  };
}

/**
 * Retries of a Cloudflare API call for tests that hold a region out: as many as production's, with
 * its backoff (250 ms doubling, ~8 s per failing call) shortened to ~0.3 s.
 */
export const SHORT_RETRY = { baseDelayMs: 20, maxDelayMs: 100 };

/** One runtime per spec target: a client bound to the region's account, and its public port. */
export function localRuntimes(
  info: EdgeInfo,
  spec: ResolvedSpec,
  opts: {
    onRequest?: (info: { target: string; endpoint: string; attempt: number }) => void;
    /** The client's retries and backoff (default production's). */
    retry?: typeof SHORT_RETRY;
  } = {},
): Map<string, TargetRuntime> {
  return new Map(
    spec.targets.map((t) => {
      const region = info.regions.find((r) => r.name === (t.region ?? t.name));
      if (!region) throw new Error(`no region ${t.region ?? t.name} on the test edge`);
      const client = createCloudflareClient({
        baseUrl: info.apiUrl,
        apiToken: info.token,
        accountId: region.accountId,
        ...opts.retry,
        ...(opts.onRequest ? { onRequest: (r) => opts.onRequest!({ target: t.name, endpoint: r.endpoint, attempt: r.attempt }) } : {}),
      });
      return [
        t.name,
        {
          name: t.name,
          accountId: region.accountId,
          client,
          endpoint: (w: string) => ({ url: `http://127.0.0.1:${region.port}/`, host: `${w}.localhost` }),
          hostEndpoint: (host: string) => ({ url: `http://127.0.0.1:${region.port}/`, host }),
        },
      ];
    }),
  );
}

/**
 * A Worker answering `{"v": tag}`. `failRate` 1 answers 500 always; between 0 and 1, that share of
 * requests (Math.random per request) answers 500.
 */
export function versionSource(tag: string, opts: { failRate?: number } = {}): string {
  const rate = opts.failRate ?? 0;
  return `export default {
  fetch() {
    if (${rate} > 0 && Math.random() < ${rate}) return new Response("broken " + ${JSON.stringify(tag)}, { status: 500 });
    return new Response(JSON.stringify({ v: ${JSON.stringify(tag)} }), { headers: { "content-type": "application/json" } });
  },
};
`;
}

export type Fleet = { dir: string; file: string; spec: ResolvedSpec; setSource(worker: string, source: string): Promise<void> };

/** Writes orchestrator.yaml and one entry file per worker (`<name>.js`), and resolves the spec. */
export async function writeFleet(dir: string, yaml: string, sources: Record<string, string>): Promise<Fleet> {
  const file = join(dir, "orchestrator.yaml");
  await mkdir(dir, { recursive: true });
  await writeFile(file, yaml);
  const setSource = async (worker: string, source: string) => {
    const path = join(dir, `${worker}.js`);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, source);
  };
  for (const [w, s] of Object.entries(sources)) await setSource(w, s);
  return { dir, file, spec: resolveSpec(parseSpec(yaml, file), file), setSource };
}

/**
 * orchestrator.yaml with one local target per region (the three test regions unless `regions`)
 * and one rollout for every worker: the spec the release tests would otherwise write out again.
 */
export function fleetYaml(opts: {
  workers: string[];
  steps: Array<number | { pause: string }>;
  waves?: string[][];
  gate: Record<string, number | string>;
  regions?: string[];
  /** Each target in the jurisdiction named as its region (eu, us), for the secret tests. */
  jurisdictions?: boolean;
  /** Extra rollout keys (allow_non_gradual, analysis…), written as JSON flow values. */
  rollout?: Record<string, unknown>;
  /** Extra keys per worker (vars, kv, d1, rollout…; `main` replaces `<name>.js`), written as JSON flow values. */
  perWorker?: Record<string, Record<string, unknown>>;
  /** Every worker's compatibility_date; null writes none (the spec's default). */
  compatibilityDate?: string | null;
  /** Top-level keys after the workers (logs…), written as JSON flow values. */
  top?: Record<string, unknown>;
}): string {
  const date = opts.compatibilityDate === undefined ? "2025-01-01" : opts.compatibilityDate;
  const lines = [
    "version: 1",
    "targets:",
    ...(opts.regions ?? ["eu", "us", "ap"]).map((r) => `  - { name: ${r}, api: local${opts.jurisdictions ? `, jurisdiction: ${r}` : ""} }`),
    "rollout:",
    ...(opts.waves ? [`  waves: ${JSON.stringify(opts.waves)}`] : []),
    `  steps: ${JSON.stringify(opts.steps)}`,
    `  gate: ${JSON.stringify(opts.gate)}`,
    ...Object.entries(opts.rollout ?? {}).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`),
    "workers:",
    ...opts.workers.flatMap((w) => {
      const { main = `${w}.js`, ...extra } = opts.perWorker?.[w] ?? {};
      return [
        `  - name: ${w}`,
        `    main: ${String(main)}`,
        ...(date === null ? [] : [`    compatibility_date: ${JSON.stringify(date)}`]),
        ...Object.entries(extra).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`),
      ];
    }),
    ...Object.entries(opts.top ?? {}).map(([k, v]) => `${k}: ${JSON.stringify(v)}`),
  ];
  return lines.join("\n") + "\n";
}

/** The live deployment of a worker on a target, read through the API. */
export async function liveOf(runtime: TargetRuntime, worker: string): Promise<Array<{ versionId: string; percentage: number }>> {
  const [d] = await runtime.client.listDeployments(worker);
  return (d?.versions ?? []).map((v) => ({ versionId: v.version_id, percentage: v.percentage }));
}

export async function versionIdsOf(runtime: TargetRuntime, worker: string): Promise<string[]> {
  return (await runtime.client.listVersions(worker)).map((v) => v.id);
}

/** The tags `n` plain requests to a region were answered with (status != 200 shows as `HTTP <status>`). */
export async function servedTags(port: number, worker: string, n = 20): Promise<Set<string>> {
  const tags = new Set<string>();
  for (let i = 0; i < n; i++) {
    const r = await httpGet(port, `${worker}.localhost`, { timeoutMs: 5_000 });
    if (r.status !== 200) tags.add(`HTTP ${r.status}`);
    else tags.add((JSON.parse(r.body) as { v: string }).v);
  }
  return tags;
}

/** The rollout of the tests that release only to have something serving: every region at once, a short gate. */
export const ALL_AT_ONCE = {
  waves: [["eu", "us", "ap"]],
  steps: [100],
  gate: { bake_ms: 100, min_samples: 2, interval_ms: 20 },
  compatibilityDate: null,
};

/** The secret suites' fleet: eu and us, each in its own jurisdiction, and one worker holding `secrets`. */
export function jurisdictionsFleetYaml(worker: string, secrets: string[], gate: Record<string, number> = {}): string {
  return fleetYaml({
    regions: ["eu", "us"],
    jurisdictions: true,
    steps: [50, 100],
    gate: { bake_ms: 100, min_samples: 2, interval_ms: 20, ...gate },
    compatibilityDate: null,
    workers: [worker],
    perWorker: { [worker]: { secrets } },
  });
}
