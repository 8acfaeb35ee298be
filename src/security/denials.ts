// Refused requests on the audit record without letting anyone fill it. Anyone can send an unsigned
// heartbeat or a wrong token; written one entry each, 600 of them took a second. So refusals are
// grouped by (source, action), where source is who sent them (the client address, or the token
// for refusals of a valid token), and each group has a window:
//
//   idle --(denial)--> open: the first `fullPerWindow` denials are written as they come, each in full
//   open --(more denials)--> open: counted, not written (reasons, targets and actors tallied)
//   open --(windowMs after it opened: the next denial, the sweep, or flush)--> one summary entry
//        {aggregated: true, count, from, to, reasons, targets, actors}, then idle
//
// Nothing refused goes unrecorded: every denial is either its own entry or counted in a summary,
// and flushAll() (the daemon's stop, before its last checkpoint) writes the open counts. Memory
// and writes stay bounded whatever the sources: at most `maxFullPerWindow` entries in full per
// window across all sources, and a source that cannot get a group of its own (too many sources,
// or that budget spent) is counted under the source "*".
import type { NewAuditEntry } from "../audit/index.ts";

export type DenialOptions = {
  /** Default 60 s. */
  windowMs?: number;
  /** Denials written in full per source and action per window before counting starts. Default 10. */
  fullPerWindow?: number;
  /** Denials written in full per window over all sources. Default 600. */
  maxFullPerWindow?: number;
  /** Groups kept at most. Default 10,000. */
  maxGroups?: number;
  now?: () => number;
};

export type DeniedEntry = NewAuditEntry & { outcome: "denied" };

const SAMPLE = 5;
const MAX_REASONS = 20;

type Group = {
  source: string;
  action: string;
  tenant: string | null | undefined;
  openedAt: number;
  written: number;
  counted: number;
  firstCountedAt: number;
  lastCountedAt: number;
  reasons: Map<string, number>;
  targets: Set<string>;
  actors: Set<string>;
  otherTargets: number;
  otherActors: number;
};

export type DenialLog = ReturnType<typeof createDenialLog>;

/** `write` appends one entry (best effort; the caller logs a failure). */
export function createDenialLog(write: (e: NewAuditEntry) => void, o: DenialOptions = {}) {
  const windowMs = o.windowMs ?? 60_000;
  const fullPerWindow = o.fullPerWindow ?? 10;
  const maxFullPerWindow = o.maxFullPerWindow ?? 600;
  const maxGroups = o.maxGroups ?? 10_000;
  const now = o.now ?? Date.now;
  const groups = new Map<string, Group>();
  let budgetFrom = -Infinity;
  let budgetUsed = 0;

  function summarize(g: Group): void {
    if (g.counted === 0) return;
    const targets = [...g.targets];
    write({
      actor: g.source === "*" ? "client:*" : g.source,
      action: g.action,
      target: targets.length === 1 && g.otherTargets === 0 ? targets[0]! : null,
      tenant: g.tenant ?? null,
      outcome: "denied",
      details: {
        aggregated: true,
        count: g.counted,
        writtenSeparately: g.written,
        from: new Date(g.firstCountedAt).toISOString(),
        to: new Date(g.lastCountedAt).toISOString(),
        windowMs,
        reasons: [...g.reasons].map(([reason, count]) => ({ reason, count })),
        targets,
        ...(g.otherTargets > 0 ? { otherTargets: g.otherTargets } : {}),
        actors: [...g.actors],
        ...(g.otherActors > 0 ? { otherActors: g.otherActors } : {}),
      },
    });
  }

  function tally(g: Group, e: DeniedEntry, t: number): void {
    if (g.counted === 0) g.firstCountedAt = t;
    g.counted++;
    g.lastCountedAt = t;
    const reason = typeof e.details?.reason === "string" ? e.details.reason.slice(0, 200) : "(none)";
    if (g.reasons.has(reason) || g.reasons.size < MAX_REASONS) g.reasons.set(reason, (g.reasons.get(reason) ?? 0) + 1);
    else g.reasons.set("(other)", (g.reasons.get("(other)") ?? 0) + 1);
    if (e.target != null) {
      if (g.targets.has(e.target) || g.targets.size < SAMPLE) g.targets.add(e.target);
      else g.otherTargets++;
    }
    if (g.actors.has(e.actor) || g.actors.size < SAMPLE) g.actors.add(e.actor);
    else g.otherActors++;
  }

  const open = (source: string, e: DeniedEntry, t: number): Group => ({
    source,
    action: e.action,
    tenant: e.tenant,
    openedAt: t,
    written: 0,
    counted: 0,
    firstCountedAt: t,
    lastCountedAt: t,
    reasons: new Map(),
    targets: new Set(),
    actors: new Set(),
    otherTargets: 0,
    otherActors: 0,
  });

  /** Ends every group whose window has passed (writing its summary). */
  function flushDue(): void {
    const t = now();
    for (const [k, g] of groups) {
      if (t - g.openedAt < windowMs) continue;
      groups.delete(k);
      summarize(g);
    }
  }

  return {
    /** Records a refusal from `source` (e.g. `client:203.0.113.7`, or the token's actor). */
    note(e: DeniedEntry, source: string): void {
      const t = now();
      if (t - budgetFrom >= windowMs) {
        budgetFrom = t;
        budgetUsed = 0;
      }
      let key = `${source}\u0000${e.action}`;
      let g = groups.get(key);
      if (g && t - g.openedAt >= windowMs) {
        groups.delete(key);
        summarize(g);
        g = undefined;
      }
      if (!g) {
        if (groups.size >= maxGroups) flushDue();
        if (groups.size >= maxGroups || budgetUsed >= maxFullPerWindow) {
          // No group of its own: counted with everyone else who has none.
          key = `*\u0000${e.action}`;
          g = groups.get(key);
          if (!g) groups.set(key, (g = open("*", e, t)));
          tally(g, e, t);
          return;
        }
        groups.set(key, (g = open(source, e, t)));
      }
      if (g.source !== "*" && g.written < fullPerWindow && budgetUsed < maxFullPerWindow) {
        g.written++;
        budgetUsed++;
        write(e);
        return;
      }
      tally(g, e, t);
    },
    flushDue,
    /** Writes every open count now (the daemon's stop). */
    flushAll(): void {
      const all = [...groups.values()];
      groups.clear();
      for (const g of all) summarize(g);
    },
    /** Denials counted and not yet written in a summary. */
    pending(): number {
      let n = 0;
      for (const g of groups.values()) n += g.counted;
      return n;
    },
    windowMs,
  };
}
