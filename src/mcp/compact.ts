// What an agent gets back as data: the fields it reasons with and the ids it reuses, without the
// bulk. A release record carries its whole stored plan (kilobytes per worker), a status target its
// drift's desired/observed splits, an audit entry its chain hashes: none of that helps an agent
// answer "what runs where" or "why did it fail", and every byte stays in its context window.
import type { AuditEntryResponse as AuditEntry, ConfigDiff, JournalEntry, Release, Status } from "../contract/index.ts";

/** A release or rollback without its stored plan (the plan tool shows one). */
export function compactRelease(r: Release) {
  return {
    id: r.id,
    worker: r.worker,
    kind: r.kind,
    status: r.status,
    reason: r.reason,
    created_by: r.created_by,
    created_at: r.created_at,
    updated_at: r.updated_at,
  };
}

/** Per worker and target: what runs (full version ids), health, drift, stale secrets; the last release. */
export function compactStatus(s: Status) {
  return {
    tenant: s.tenant,
    targets: s.targets.map((t) => ({ name: t.name, region: t.region, jurisdiction: t.jurisdiction })),
    ...(s.specRefused ? { specRefused: s.specRefused } : {}),
    workers: s.workers.map((w) => ({
      name: w.name,
      lastRelease: w.lastRelease ? compactRelease(w.lastRelease) : null,
      targets: w.targets.map((t) => ({
        target: t.target,
        live: t.live,
        ...(t.liveError ? { liveError: t.liveError } : {}),
        health: t.health ? { status: t.health.status, checkedAt: t.health.checkedAt } : null,
        drift: t.drift ? { status: t.drift.status, kinds: t.drift.kinds, detail: t.drift.detail } : null,
        ...(t.restore ? { restore: t.restore } : {}),
        ...(t.staleSecrets?.length ? { staleSecrets: t.staleSecrets } : {}),
      })),
    })),
  };
}

/** An audit entry without its chain hashes (verifying the chain is the operator's `cbo audit verify`). */
export function compactAudit(e: AuditEntry) {
  const { prev_hash: _p, hash: _h, tenant: _t, ...rest } = e;
  return rest;
}

/** A journal entry without a gate's whole canary analysis (`analysisStep`: every minute of both versions). */
export function compactJournal(j: JournalEntry) {
  const { analysisStep: _a, ...data } = j.data;
  return { seq: j.seq, kind: j.kind, target: j.target, at: j.at, ...(Object.keys(data).length ? { data } : {}) };
}

/** A journal entry in words: `gate.failed eu 50%: 3 consecutive probes failed`. */
export function journalLine(j: JournalEntry): string {
  const d = j.data;
  const pct = typeof d.percent === "number" ? ` ${d.percent}%` : "";
  const why = [d.reason, d.error, d.status].find((x) => typeof x === "string" && x !== "");
  return `${j.kind}${j.target ? ` ${j.target}` : ""}${pct}${why ? `: ${String(why)}` : ""}`;
}

/**
 * A target's config diff as its changes only: the daemon masks the values of keys that name a
 * secret (api_key, password…) in `changes`, but the whole published and desired configs carry them
 * in clear, so they stay out (the version numbers say what is published).
 */
export function compactConfigDiff(d: ConfigDiff) {
  return {
    target: d.target,
    changed: d.changed,
    changes: d.changes,
    publishedVersion: d.published?.version ?? null,
    written: d.written,
    applied: d.applied,
  };
}
