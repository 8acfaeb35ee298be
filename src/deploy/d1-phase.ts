// The D1 phases of a target's release (apply.ts drives them):
//
//   d1-migrations  before the upload, so before any traffic shifts there: the expand migrations
//   d1-contract    after every target of the release reached 100% and passed its last gate: the
//                  migrations marked `-- cbo:contract` (src/build/d1-migration-markers.ts)
//
// Per database with pending files, in order:
//   bookmark   a Time Travel bookmark, journaled with phase.intent (what `cbo d1 restore
//              --to-release` restores to: the release record holds it)
//   table      the migrations table (wrangler's CREATE TABLE IF NOT EXISTS)
//   applied    the table read again (level-based: a file another run applied is never sent twice)
//   each file  d1.intent, one request (its SQL and its row in one transaction), d1.applied; a file
//              D1 refuses is journaled as d1.failed and stops the target with ERR_D1_MIGRATION,
//              naming the file and the statement; an abort stops the phase before its next file
//              (phase.done with `stopped`), never in the middle of one
//   phase.done
import type { TargetRuntime } from "../targets/types.ts";
import { pendingD1Migrations } from "../build/index.ts";
import { CboError, isCboError } from "../kit/errors.ts";
import { splitSql } from "../kit/split-sql.ts";
import { placeResource, refKey } from "../targets/resources.ts";
import type { ApplyContext } from "./apply-context.ts";
import { J } from "./journal.ts";
import { readApplied, type TargetPlace } from "./observe.ts";
import { describeError } from "./record.ts";
import type { SourceBuild } from "./release-build.ts";
import type { ResourceIds } from "./target-phases.ts";

export type D1PhaseKind = "d1-migrations" | "d1-contract";

export async function d1Phase(
  /** `stop`: an abort (or a sibling's failure, or the daemon stopping) ends the phase before its next file. */
  ctx: Pick<ApplyContext, "rec" | "plan"> & { stop?: AbortSignal },
  phase: D1PhaseKind,
  name: string,
  runtime: TargetRuntime,
  build: Pick<SourceBuild, "source" | "d1">,
  ids: ResourceIds,
  place: TargetPlace,
): Promise<void> {
  const contract = phase === "d1-contract";
  const target = ctx.plan.targets.find((t) => t.name === name);
  for (const m of build.d1) {
    const binding = build.source.bindings.find((b) => b.kind === "d1" && b.binding === m.binding);
    if (binding?.kind !== "d1") continue;
    const db = ids.get(refKey(placeResource(binding.resource, place).ref));
    if (!db) continue;
    const planned = (contract ? target?.d1Contract : target?.d1Migrations)?.find((d) => d.database === m.database);
    // Nothing pending at plan time: read nothing now (the plan's request count holds).
    if (!planned || planned.pending.length === 0) continue;
    const bookmark = await runtime.client.getD1Bookmark(db.id);
    ctx.rec.journal(J.phaseIntent, name, {
      phase,
      database: m.database,
      databaseId: db.id,
      table: m.table,
      pending: planned.pending,
      bookmark,
    });
    await runtime.client.ensureD1MigrationsTable(db.id, m.table);
    const applied = (await readApplied(runtime, db.id, m.table)).names;
    const done: string[] = [];
    for (const f of pendingD1Migrations(
      m.files.filter((x) => x.contract === contract),
      applied,
    )) {
      if (ctx.stop?.aborted) {
        // Stopped between two files: the journal says what landed, and the table agrees.
        ctx.rec.journal(J.phaseDone, name, { phase, database: m.database, applied: done, bookmark, stopped: true });
        throw ctx.stop.reason;
      }
      ctx.rec.journal(J.d1Intent, name, {
        phase,
        database: m.database,
        databaseId: db.id,
        table: m.table,
        name: f.name,
        ...(f.breaksRollback ? { breaksRollback: true } : {}),
      });
      try {
        await runtime.client.applyD1Migration(db.id, { name: f.name, sql: f.sql, table: m.table });
      } catch (e) {
        // The answer is not the whole story: one that timed out or was lost may follow a commit,
        // and the transport's retry of such a file is then refused (its table already exists).
        // The table says whether it landed (the file and its row are one transaction).
        const landed = await holds(runtime, db.id, m.table, f.name);
        if (landed === true) {
          ctx.rec.journal(J.d1Applied, name, { phase, database: m.database, name: f.name, confirmed: "table" });
          done.push(f.name);
          continue;
        }
        if (!refused(e)) throw unanswered(e, { phase, target: name, database: m.database, file: f.name, landed, done, bookmark, ctx });
        const why = d1Message(e);
        const statement = failingStatement(f.sql, why);
        ctx.rec.tryTo(() =>
          ctx.rec.journal(J.d1Failed, name, {
            phase,
            database: m.database,
            name: f.name,
            ...(statement ? { statement: statement.text, statementIndex: statement.index } : {}),
            error: describeError(e),
          }),
        );
        throw new CboError(
          "ERR_D1_MIGRATION",
          `D1 migration ${f.name} failed on database ${m.database} in ${name}${statement ? ` at statement ${statement.index} (${statement.text})` : ""}: ${why}`,
          {
            details: {
              target: name,
              database: m.database,
              file: f.name,
              ...(statement ? { statement: statement.text, statementIndex: statement.index } : {}),
              applied: done,
              bookmark,
            },
            hint: `Fix ${f.name} and release again: the migrations before it${done.length > 0 ? ` (${done.join(", ")})` : ""} stay applied, and no traffic shifted in ${name}.`,
            cause: e,
          },
        );
      }
      ctx.rec.journal(J.d1Applied, name, { phase, database: m.database, name: f.name });
      done.push(f.name);
    }
    ctx.rec.journal(J.phaseDone, name, { phase, database: m.database, applied: done, bookmark });
    ctx.rec.emit("release.phase.done", name, {
      phase,
      summary: done.length > 0 ? `applied ${done.join(", ")} to D1 ${m.database}` : `D1 ${m.database} was up to date`,
      database: m.database,
      applied: done,
      bookmark,
    });
  }
}

/** Whether the migrations table holds `file`; undefined when it cannot be read now. */
async function holds(runtime: TargetRuntime, databaseId: string, table: string, file: string): Promise<boolean | undefined> {
  try {
    return (await readApplied(runtime, databaseId, table)).names.includes(file);
  } catch {
    return undefined;
  }
}

/** D1 answered and refused the file (a 4xx): the file is what needs fixing. */
function refused(e: unknown): boolean {
  return isCboError(e) && e.code === "ERR_CF_REQUEST";
}

/**
 * A file sent without a clear answer (the region unavailable, rate limited, an answer lost, the
 * release halted): not the file's fault, so not ERR_D1_MIGRATION. When the table says it did not
 * land, d1.failed is journaled (landed: false); when it cannot say, nothing is: the intent stays
 * unanswered, and recovery or the next release reads the table before sending anything.
 */
function unanswered(
  e: unknown,
  w: {
    phase: D1PhaseKind;
    target: string;
    database: string;
    file: string;
    landed: false | undefined;
    done: string[];
    bookmark: string | null;
    ctx: Pick<ApplyContext, "rec">;
  },
): unknown {
  // A halt or an abort: its own reason, so the release stops as such (recovery reads the table).
  if (!isCboError(e)) return e;
  if (w.landed === false)
    w.ctx.rec.tryTo(() =>
      w.ctx.rec.journal(J.d1Failed, w.target, {
        phase: w.phase,
        database: w.database,
        name: w.file,
        landed: false,
        error: describeError(e),
      }),
    );
  const fate =
    w.landed === false
      ? "it did not land (its migrations table says so)"
      : "whether it landed is unknown until the region answers (its migrations table could not be read)";
  return new CboError(e.code, `D1 migration ${w.file} on database ${w.database} in ${w.target} got no answer: ${e.message}; ${fate}.`, {
    details: { target: w.target, database: w.database, file: w.file, landed: w.landed ?? null, applied: w.done, bookmark: w.bookmark },
    hint: `Release again once ${w.target} answers: the file needs no change, no traffic shifted in ${w.target}, and the next release reads the migrations table first, so a file that landed is not sent twice.`,
    cause: e,
  });
}

/** What D1 said about a failed query (Cloudflare's own message when it gave one). */
function d1Message(e: unknown): string {
  if (isCboError(e)) {
    const items = e.details?.cloudflareErrors;
    const first = Array.isArray(items) ? (items[0] as { message?: unknown } | undefined) : undefined;
    if (typeof first?.message === "string") return first.message;
    return e.message;
  }
  return e instanceof Error ? e.message : String(e);
}

// The object names SQLite's messages carry, to find the statement that failed: D1 answers one
// error for the whole file (one transaction), and the offset it gives is within a statement.
const NAMED = [
  /near "([^"]+)": syntax error/,
  /no such (?:table|column|index|view|trigger|function|collation): ([\w.$]+)/,
  /(?:table|index|view|trigger) "?([\w.$]+)"? already exists/,
  /duplicate column name: ([\w$]+)/,
  /UNIQUE constraint failed: ([\w.$]+)/,
  /NOT NULL constraint failed: ([\w.$]+)/,
];

/**
 * The statement of a migration file that a D1 error message points at: 1-based, and its text on
 * one line (at most 160 characters). Undefined when the message names nothing the file holds.
 */
export function failingStatement(sql: string, message: string): { index: number; text: string } | undefined {
  const statements = splitSql(sql).map((s) => s.sql);
  const oneLine = (s: string) => {
    const t = s
      .replace(/--[^\n]*\n?/g, " ")
      .replace(/\s+/g, " ")
      .trim();
    return t.length > 160 ? `${t.slice(0, 157)}...` : t;
  };
  for (const re of NAMED) {
    const m = re.exec(message);
    if (!m) continue;
    const word = m[1]!.toLowerCase();
    const last = word.includes(".") ? word.split(".").pop()! : word;
    // As a whole token: `near "CREAT"` must not point at a CREATE.
    const token = (w: string) => new RegExp(`(^|[^\\w$])${w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}($|[^\\w$])`, "i");
    const i = statements.findIndex((s) => token(word).test(s) || token(last).test(s));
    if (i >= 0) return { index: i + 1, text: oneLine(statements[i]!) };
  }
  if (statements.length === 1) return { index: 1, text: oneLine(statements[0]!) };
  return undefined;
}
