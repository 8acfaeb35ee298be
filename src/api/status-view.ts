// The shapes /v1/status, /v1/targets and /v1/workers answer with, assembled from the spec (what
// should run), the catalog (resolved account ids), health, releases and what the edge reports.
// Pure: the routes gather the inputs.
import type { ResolvedSpec, ResolvedWorker } from "../config/load.ts";
import type { PendingRestore } from "../deploy/types.ts";
import type { DriftRow, HealthRow, Release, TargetRow } from "../store/index.ts";
import type { Observation } from "../targets/live-cache.ts";
import type { DriftSummary, ReleaseControl, RestoreSummary, SpecRefusal, Status, TargetSummary, WorkerSummary } from "../contract/index.ts";

export function restoreSummary(p: PendingRestore): RestoreSummary {
  return {
    releaseId: p.releaseId,
    versionId: p.versionId,
    since: p.since,
    attempts: p.attempts,
    lastError: p.lastError,
    nextAttemptAt: p.nextAttemptAt,
    ...(p.waitingFor ? { waitingFor: p.waitingFor } : {}),
  };
}

export function driftSummary(d: DriftRow): DriftSummary {
  return {
    status: d.status,
    drifted: d.drifted,
    kinds: d.kinds,
    detail: d.detail,
    desired: d.desired,
    observed: d.observed,
    differences: d.differences,
    note: d.note,
    revert: d.revert,
    since: d.since,
    checkedAt: d.checked_at,
  };
}

/** Spec targets in spec order; the catalog adds the account id resolved at start (local targets have none in the spec). */
export function targetSummaries(spec: ResolvedSpec, catalog: TargetRow[]): TargetSummary[] {
  const rows = new Map(catalog.map((r) => [r.name, r]));
  return spec.targets.map((t) => {
    const row = rows.get(t.name);
    return {
      name: t.name,
      api: t.api,
      accountId: row?.account_id ?? t.account_id ?? null,
      region: row?.region ?? t.region ?? null,
      jurisdiction: t.jurisdiction ?? row?.jurisdiction ?? null,
    };
  });
}

export function workerSummary(w: ResolvedWorker): WorkerSummary {
  return {
    name: w.name,
    tenant: w.tenant,
    agent: w.agent,
    targets: w.targets,
    waves: w.waves,
    steps: w.steps,
    gate: w.gate,
    compatibilityDate: w.compatibilityDate,
  };
}

export function buildStatus(input: {
  spec: ResolvedSpec;
  catalogTargets: TargetRow[];
  health: HealthRow[];
  lastRelease: (worker: string) => Release | null;
  observations: Map<string, Observation>;
  /** The drift checker's rows (the route always passes them); without them targets carry no `drift` field. */
  drift?: DriftRow[];
  /** The engine's owed restores (the route always passes them); without them targets carry no `restore` field. */
  restores?: PendingRestore[];
  /** orchestrator.yaml on disk, refused: this status is the previous spec's. */
  specRefused?: SpecRefusal | undefined;
  /** The secret versions a version we uploaded pinned there (the catalog), and the vault's current version of a secret. */
  pins?: (worker: string, target: string, versionId: string) => Record<string, number> | undefined;
  currentSecret?: (name: string) => number | undefined;
  /** A running release's pause and waits (the engine's control board); undefined when it runs nowhere here. */
  control?: (releaseId: string) => ReleaseControl | undefined;
}): Status {
  const stale = (worker: string, target: string, live: Array<{ versionId: string; percentage: number }> | undefined) => {
    if (!input.pins || !input.currentSecret || !live || live.length === 0) return [];
    const main = [...live].sort((a, b) => b.percentage - a.percentage)[0]!;
    return Object.entries(input.pins(worker, target, main.versionId) ?? {}).flatMap(([name, pinned]) => {
      const current = input.currentSecret!(name);
      return current !== undefined && pinned < current ? [{ name, pinned, current }] : [];
    });
  };
  const health = new Map(input.health.map((h) => [`${h.worker}\u0000${h.target}`, h]));
  const restores = input.restores && new Map(input.restores.map((p) => [`${p.worker}\u0000${p.target}`, p]));
  const drift = input.drift && new Map(input.drift.map((d) => [`${d.worker}\u0000${d.target}`, d]));
  return {
    ...(input.specRefused ? { specRefused: input.specRefused } : {}),
    tenant: input.spec.tenant,
    targets: targetSummaries(input.spec, input.catalogTargets),
    workers: input.spec.workers.map((w) => {
      const seen = input.observations.get(w.name);
      const last = input.lastRelease(w.name);
      const control = last && (last.status === "running" || last.status === "rolling_back") ? input.control?.(last.id) : undefined;
      return {
        name: w.name,
        targets: w.targets.map((target) => {
          const h = health.get(`${w.name}\u0000${target}`);
          const live = seen?.live.get(target);
          const row = drift?.get(`${w.name}\u0000${target}`);
          return {
            target,
            live: live?.map((d) => ({ versionId: d.versionId, percentage: d.percentage })) ?? [],
            liveError: live ? null : (seen?.errors.get(target) ?? "This target's deployment was not read."),
            health: h ? { status: h.status, versionId: h.version_id, latencyMs: h.latency_ms, checkedAt: h.checked_at } : null,
            ...(drift ? { drift: row ? driftSummary(row) : null } : {}),
            ...(input.pins ? { staleSecrets: stale(w.name, target, live) } : {}),
            ...(restores
              ? { restore: restores.has(`${w.name}\u0000${target}`) ? restoreSummary(restores.get(`${w.name}\u0000${target}`)!) : null }
              : {}),
          };
        }),
        lastRelease: last,
        ...(control ? { control } : {}),
      };
    }),
  };
}
