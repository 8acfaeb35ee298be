// Recovery of a release killed inside a D1 phase (recover.ts calls it). The journal says which
// files were sent; the database's own migrations table says which landed (a file's SQL and its row
// go in one transaction, so the table cannot be wrong about it). Recovery never applies a file:
// the release stops cleanly (no traffic ever shifted in a target whose phase did not finish, since
// the upload comes after it), the journal is brought into agreement with the table (d1.applied for
// a file that landed while its answer was lost), and the next release's plan shows what is pending.
// The exception is a contract phase after every gate passed: recover.ts then finishes it
// (d1-contract-recover.ts), re-reading the files and checking them against the plan.
import type { JournalEntry } from "../store/index.ts";
import type { TargetRuntime } from "../targets/types.ts";
import { d1Replay, J } from "./journal.ts";
import { readApplied } from "./observe.ts";
import { isCboError } from "../kit/errors.ts";
import { describeError, type Recorder } from "./record.ts";

export type D1Recovered = {
  target: string;
  database: string;
  /** The phase left unfinished (d1-migrations or d1-contract), when one was. */
  phase?: string;
  /** Files the release sent that the table holds. */
  applied: string[];
  /** Files the release sent that the table does not hold (they stay pending). */
  missing: string[];
  /** Could not read the table now. */
  error?: string;
};

/** The D1 databases whose phase the release left unfinished, read from their tables; journals what landed unanswered. */
export async function recoverD1(rec: Recorder, entries: JournalEntry[], runtimes: Map<string, TargetRuntime>): Promise<D1Recovered[]> {
  const out: D1Recovered[] = [];
  for (const r of d1Replay(entries)) {
    const count = (list: string[], p: string) => list.filter((x) => x === p).length;
    const open = [...new Set(r.begun)].filter((p) => count(r.begun, p) > count(r.finished, p));
    const unanswered = r.sent.filter((n) => !r.applied.includes(n) && r.failed?.name !== n);
    if (open.length === 0 && unanswered.length === 0) continue;
    const phase = open.length > 0 ? open[open.length - 1]! : undefined;
    const base = { target: r.target, database: r.database, ...(phase ? { phase } : {}) };
    // The files of the interrupted phase (an earlier, finished phase of the release is not news).
    const sent = r.sent.filter((n) => phase === undefined || (r.phaseOf[n] ?? phase) === phase || unanswered.includes(n));
    const runtime = runtimes.get(r.target);
    if (!runtime || !r.databaseId) {
      out.push({ ...base, applied: [], missing: [], error: "target or database no longer known" });
      continue;
    }
    try {
      const names = new Set((await readApplied(runtime, r.databaseId, r.table || "d1_migrations")).names);
      for (const n of unanswered)
        if (names.has(n)) rec.journal(J.d1Applied, r.target, { phase: base.phase ?? "", database: r.database, name: n, recovery: true });
      out.push({ ...base, applied: sent.filter((n) => names.has(n)), missing: sent.filter((n) => !names.has(n)) });
    } catch (e) {
      out.push({ ...base, applied: [], missing: [], error: describeError(e) });
    }
  }
  return out;
}

/**
 * For the release's reason: what each interrupted D1 phase left, as the tables say. `finishing`:
 * recovery goes on to run the contract files left (d1-contract-recover.ts), and says so itself.
 */
export function describeD1Recovery(list: D1Recovered[], opts: { finishing?: boolean } = {}): string {
  return list
    .map((d) => {
      const where = `${d.target}: ${d.phase ?? "D1"} of ${d.database} interrupted`;
      if (d.error) return `${where} (its migrations table could not be read: ${d.error})`;
      const parts = [
        d.applied.length > 0 ? `${d.applied.join(", ")} applied` : "no file applied",
        d.missing.length > 0 ? `${d.missing.join(", ")} not applied` : "",
      ].filter(Boolean);
      return `${where}, ${parts.join(", ")}${opts.finishing ? "" : " (the schema stays; the next release applies what is pending)"}`;
    })
    .join("; ");
}

/**
 * A release ending on its own (rolled back) with D1 files sent but unanswered in its journal (the
 * answer lost, the table unreadable then): reads their tables now and journals d1.applied
 * (recovery) for each that landed, skipping what the journal holds by then. `unreadable`: tables
 * that could not be read for a reason that passes (the region out), to be read again.
 */
/** A database whose migrations table could not be read yet: the files sent there without an answer. */
export type UnreadableD1 = { target: string; database: string; files: string[]; error: string };

export async function settleUnansweredD1(
  rec: Recorder,
  entries: () => JournalEntry[],
  runtimes: Map<string, TargetRuntime>,
): Promise<{ unreadable: UnreadableD1[] }> {
  const unreadable: UnreadableD1[] = [];
  for (const r of d1Replay(entries())) {
    const unanswered = r.sent.filter((n) => !r.applied.includes(n) && r.failed?.name !== n);
    const runtime = runtimes.get(r.target);
    if (unanswered.length === 0 || !runtime || !r.databaseId) continue;
    let names: Set<string>;
    try {
      names = new Set((await readApplied(runtime, r.databaseId, r.table || "d1_migrations")).names);
    } catch (e) {
      // Gone for good (deleted, refused): nothing to wait for; the next release reads it again.
      if (isCboError(e) && e.retryable)
        unreadable.push({ target: r.target, database: r.database, files: unanswered, error: describeError(e) });
      continue;
    }
    for (const n of unanswered)
      if (names.has(n)) rec.journal(J.d1Applied, r.target, { phase: r.phaseOf[n] ?? "", database: r.database, name: n, recovery: true });
  }
  return { unreadable };
}

/**
 * The expand migrations a release applied, which its rollback leaves in place (forward only), for
 * its reason: "D1 schema stays (…): eu notes 0005_title.sql". A reason that said only "no target was
 * changed" after an abort in a migration phase would hide that the schema moved. null: none.
 */
export function describeSchemaLeft(entries: JournalEntry[], releaseId: string): string | null {
  const left = d1Replay(entries)
    .map((r) => ({ r, files: r.applied.filter((n) => (r.phaseOf[n] ?? "d1-migrations") === "d1-migrations") }))
    .filter((x) => x.files.length > 0);
  if (left.length === 0) return null;
  const what = left.map(({ r, files }) => `${r.target} D1 ${r.database} ${files.join(", ")}`).join(", ");
  return `D1 schema stays as migrated (migrations are forward only; cbo d1 restore <binding> --target <target> --to-release ${releaseId} undoes them): ${what}`;
}
