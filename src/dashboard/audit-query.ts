// The audit page's filter form as GET /v1/audit's query. Pure. Times typed in the browser's
// datetime-local fields are local times; the API wants ISO 8601 with an offset.
import type { AuditQuery } from "../contract/index.ts";
export type AuditFilter = {
  action?: string;
  actor?: string;
  target?: string;
  outcome?: string;
  text?: string;
  since?: string;
  until?: string;
  limit?: string;
  beforeSeq?: number;
};

export function auditQuery(f: AuditFilter): AuditQuery {
  const t = (v: string | undefined) => (v?.trim() ? v.trim() : undefined);
  return {
    action: t(f.action),
    actor: t(f.actor),
    target: t(f.target),
    outcome: f.outcome === "ok" || f.outcome === "denied" || f.outcome === "error" ? f.outcome : undefined,
    text: t(f.text),
    since: isoOf(t(f.since)),
    until: isoOf(t(f.until)),
    limit: t(f.limit) && /^\d+$/.test(f.limit!.trim()) ? Number(f.limit!.trim()) : 100,
    beforeSeq: f.beforeSeq,
  };
}

/** `2025-06-01T12:30` (local) -> `2025-06-01T10:30:00.000Z`; undefined when empty or not a time. */
export function isoOf(local: string | undefined): string | undefined {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** Details as one short line: `key=value` pairs, long values cut. */
export function detailLine(details: Record<string, unknown>, max = 160): string {
  const s = Object.entries(details)
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" ");
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
