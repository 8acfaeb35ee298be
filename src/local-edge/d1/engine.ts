// One D1 database: a SQLite file (node:sqlite, WAL, mode 0600) in its own directory, plus its
// Time Travel history (history.ts). Every call runs synchronously on the edge's one connection, so
// calls never interleave; each call is one transaction (or one per group for exec), and the pages
// it changed are captured into the history right after it commits.
//
// What a Worker's SQL may do is what D1 allows: no ATTACH/DETACH, no BEGIN/COMMIT/SAVEPOINT (a
// call is already a transaction; use batch()), no VACUUM, and only the PRAGMAs D1 documents. The
// authorizer enforces it; the edge's own statements run with `internal` set.
import { DatabaseSync, constants } from "node:sqlite";
import { existsSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { splitSql } from "../../kit/split-sql.ts";
import { variableOffset } from "./variable-offset.ts";
import { countQuery, noUsage, openUsage, type QueryRow, type QueryStats, type Usage, type UsageHour } from "./usage.ts";
import { openHistory, type History, type HistoryEntry } from "./history.ts";
import { formatBookmark, parseBookmark } from "./bookmark.ts";
import { ensurePrivateDir, ensurePrivateFile, tighten } from "../../config/private-fs.ts";

export type D1Query = { sql: string; params?: unknown[] };

export type D1Meta = {
  served_by: string;
  served_by_region: string;
  served_by_primary: boolean;
  timings: { sql_duration_ms: number };
  duration: number;
  changes: number;
  last_row_id: number;
  changed_db: boolean;
  size_after: number;
  rows_read: number;
  rows_written: number;
};

export type StatementResult = { columns: string[]; rows: unknown[][]; meta: D1Meta };

/** A SQL failure, with D1's message shape (`<sqlite message>: SQLITE_<CODE>`). */
export class D1SqlError extends Error {
  /** Which group (query) failed. */
  readonly index: number;
  constructor(message: string, index: number) {
    super(message);
    this.index = index;
  }
}

/** PRAGMAs D1 documents as supported (developers.cloudflare.com/d1/sql-api/sql-statements). */
const ALLOWED_PRAGMAS = new Set([
  "table_list",
  "table_info",
  "table_xinfo",
  "index_list",
  "index_info",
  "index_xinfo",
  "quick_check",
  "foreign_key_check",
  "foreign_key_list",
  "case_sensitive_like",
  "ignore_check_constraints",
  "foreign_keys",
  "defer_foreign_keys",
  "legacy_alter_table",
  "recursive_triggers",
  "reverse_unordered_selects",
  "optimize",
]);

const SQLITE_CODES: Record<number, string> = {
  1: "ERROR",
  2: "INTERNAL",
  3: "PERM",
  4: "ABORT",
  5: "BUSY",
  6: "LOCKED",
  7: "NOMEM",
  8: "READONLY",
  9: "INTERRUPT",
  10: "IOERR",
  11: "CORRUPT",
  12: "NOTFOUND",
  13: "FULL",
  14: "CANTOPEN",
  15: "PROTOCOL",
  16: "EMPTY",
  17: "SCHEMA",
  18: "TOOBIG",
  19: "CONSTRAINT",
  20: "MISMATCH",
  21: "MISUSE",
  22: "NOLFS",
  23: "AUTH",
  24: "FORMAT",
  25: "RANGE",
  26: "NOTADB",
};

/** Checkpoint (and truncate) the wal once it grows past this; captures read only new frames. */
const WAL_CHECKPOINT_BYTES = 4 * 1024 * 1024;
const STATEMENT_CACHE = 200;

type Stmt = ReturnType<DatabaseSync["prepare"]>;

/** A D1 parameter as SQLite binds it: whole numbers as INTEGER (as D1 does), byte arrays as BLOB. */
export function toSqlValue(v: unknown): null | number | bigint | string | Uint8Array {
  if (v === null || v === undefined) return null;
  if (typeof v === "number") return Number.isSafeInteger(v) ? BigInt(v) : v;
  if (typeof v === "string" || typeof v === "bigint") return v;
  if (typeof v === "boolean") return v ? 1n : 0n;
  if (v instanceof Uint8Array) return v;
  if (Array.isArray(v) && v.every((b) => typeof b === "number" && b >= 0 && b < 256)) return Uint8Array.from(v as number[]);
  throw new TypeError(`Type '${typeof v}' not supported for value '${String(v)}'`);
}

/** A SQLite value as D1 returns it: integers as numbers (lossy past 2^53, as D1), blobs as byte arrays. */
function fromSqlValue(v: unknown): unknown {
  if (typeof v === "bigint") return Number(v);
  if (v instanceof Uint8Array) return Array.from(v);
  return v;
}

/**
 * What SQLite lets a D1 query do, as D1's limits page lists them (developers.cloudflare.com/d1/
 * platform/limits: statement 100,000 bytes, 100 bound parameters, 100 columns, 32 function
 * arguments, LIKE/GLOB pattern 50 bytes, string/BLOB/row 2,000,000 bytes). workerd sets the first
 * four it checks the same way for wrangler dev (checked against it: "statement too long:
 * SQLITE_TOOBIG", "too many SQL variables", "too many columns on t", "LIKE or GLOB pattern too
 * complex"); the 32 arguments and 2,000,000 bytes are the page's, which workerd does not keep.
 * They hold for a Worker's queries and the query API; an import (`d1 execute --file`) is one
 * file of statements and keeps SQLite's defaults (whether Cloudflare's import checks them is
 * unconfirmed).
 */
const D1_LIMITS = { sqlLength: 100_000, variableNumber: 100, column: 100, functionArg: 32, likePatternLength: 50, length: 2_000_000 };
type Limits = typeof D1_LIMITS;

export type D1EngineOptions = { id: string; dir: string; region: string; now?: () => number };

export function openD1Engine(opts: D1EngineOptions) {
  const dbPath = join(opts.dir, "db.sqlite");
  const walPath = `${dbPath}-wal`;
  const now = opts.now ?? Date.now;
  ensurePrivateDir(opts.dir);

  let internal = false;
  let denied: string | undefined;
  let db!: DatabaseSync;
  let pageSize = 4096;
  let cache = new Map<string, Stmt>();
  let probe!: { changes: Stmt; pages: Stmt };
  /** SQLite's own limits of the connection, for imports and the edge's statements. */
  let defaults!: Limits;

  /** Runs `fn` with D1's limits (or SQLite's defaults when `limited` is false). */
  let limitedNow = false;
  const limitedTo = <T>(limited: boolean, fn: () => T): T => {
    const want = limited ? D1_LIMITS : defaults;
    for (const [k, v] of Object.entries(want)) db.limits[k as keyof Limits] = v;
    limitedNow = limited;
    try {
      return fn();
    } finally {
      limitedNow = false;
      for (const [k, v] of Object.entries(defaults)) db.limits[k as keyof Limits] = v;
    }
  };

  const asInternal = <T>(fn: () => T): T => {
    const was = internal;
    internal = true;
    try {
      return fn();
    } finally {
      internal = was;
    }
  };

  function authorize(code: number, a1: string | null): number {
    if (internal) return constants.SQLITE_OK;
    if (code === constants.SQLITE_ATTACH || code === constants.SQLITE_DETACH) {
      denied = "ATTACH and DETACH are not allowed in D1";
      return constants.SQLITE_DENY;
    }
    if (code === constants.SQLITE_TRANSACTION || code === constants.SQLITE_SAVEPOINT) {
      denied =
        "D1 runs each query (and each batch()) as one transaction: BEGIN, COMMIT, ROLLBACK and SAVEPOINT are not allowed; use batch() for several statements";
      return constants.SQLITE_DENY;
    }
    if (code === constants.SQLITE_PRAGMA && !ALLOWED_PRAGMAS.has((a1 ?? "").toLowerCase())) {
      denied = `PRAGMA ${a1} is not allowed in D1`;
      return constants.SQLITE_DENY;
    }
    return constants.SQLITE_OK;
  }

  function open(): void {
    // Workers' data: 0600 before SQLite opens it, so the -wal and -shm it creates are 0600 too.
    ensurePrivateFile(dbPath);
    for (const extra of [walPath, `${dbPath}-shm`]) if (existsSync(extra)) tighten(extra, 0o600);
    db = new DatabaseSync(dbPath);
    db.exec("PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;");
    db.enableDefensive(true);
    pageSize = Number((db.prepare("PRAGMA page_size").get() as { page_size: number }).page_size);
    db.setAuthorizer((code, a1) => authorize(code, a1));
    defaults = Object.fromEntries(Object.keys(D1_LIMITS).map((k) => [k, db.limits[k as keyof Limits]])) as Limits;
    cache = new Map();
    probe = asInternal(() => ({
      changes: db.prepare("SELECT total_changes() AS t, last_insert_rowid() AS r"),
      pages: db.prepare("PRAGMA page_count"),
    }));
    probe.changes.setReadBigInts(true);
  }

  function checkpoint(): void {
    asInternal(() => db.exec("PRAGMA wal_checkpoint(TRUNCATE)"));
    history.walReset();
  }

  open();
  const history: History = openHistory(join(opts.dir, "history.sqlite"), walPath);
  const usage: Usage = openUsage(join(opts.dir, "usage.sqlite"));
  /** What the statements of the current call did; recorded when the call ends (failed ones are not counted). */
  let pending = noUsage();
  /** The same per statement text (d1QueriesAdaptiveGroups). */
  let pendingQueries = new Map<string, QueryStats>();
  // A clean close checkpoints and removes the wal. One still holding frames means the edge
  // stopped between a commit and its capture: record the state found as a whole image.
  if (existsSync(walPath) && statSync(walPath).size > 0) {
    history.capture(now());
    checkpoint();
  }
  history.prune(now());

  const sizeBytes = () => asInternal(() => Number((probe.pages.get() as { page_count: number }).page_count)) * pageSize;

  function prepare(sql: string): Stmt {
    // A statement prepared without D1's limits (an import) is not reused under them.
    const key = `${limitedNow ? "d1" : "import"}\0${sql}`;
    let s = cache.get(key);
    if (s) {
      cache.delete(key);
      cache.set(key, s);
      return s;
    }
    s = db.prepare(sql);
    s.setReadBigInts(true);
    s.setReturnArrays(true);
    cache.set(key, s);
    if (cache.size > STATEMENT_CACHE) cache.delete(cache.keys().next().value!);
    return s;
  }

  function sqlError(e: unknown, index: number): D1SqlError {
    const err = e as { message?: string; errcode?: number };
    const primary = typeof err.errcode === "number" ? err.errcode & 0xff : 1;
    const reason = primary === 23 && denied ? denied : (err.message ?? String(e));
    denied = undefined;
    return new D1SqlError(`${reason}: SQLITE_${SQLITE_CODES[primary] ?? "ERROR"}`, index);
  }

  function runStatement(sql: string, keyword: string, params: unknown[], statementIndex: number): StatementResult {
    if (keyword === "vacuum") {
      denied = "VACUUM is not allowed in D1";
      throw Object.assign(new Error("not authorized"), { errcode: 23 });
    }
    // SQLite says it so, as workerd shows it; node:sqlite words this code "string or blob too big".
    if (limitedNow && Buffer.byteLength(sql) > D1_LIMITS.sqlLength)
      throw new D1SqlError("statement too long: SQLITE_TOOBIG", statementIndex);
    const stmt = prepare(sql);
    const values = params.map(toSqlValue);
    const t0 = performance.now();
    const before = probe.changes.get() as { t: bigint };
    const columns = stmt.columns().map((c) => c.name);
    let rows: unknown[][] = [];
    if (columns.length > 0) rows = (stmt.all(...values) as unknown as unknown[][]).map((r) => r.map(fromSqlValue));
    else stmt.run(...values);
    const after = probe.changes.get() as { t: bigint; r: bigint };
    const ms = performance.now() - t0;
    const changes = Number(after.t - before.t);
    const ddl = keyword === "create" || keyword === "drop" || keyword === "alter";
    const rowsRead = columns.length > 0 ? rows.length : changes;
    if (changes > 0 || ddl) pending.writeQueries++;
    else pending.readQueries++;
    pending.rowsRead += rowsRead;
    pending.rowsWritten += changes;
    countQuery(pendingQueries, sql, { durationMs: ms, rowsRead, rowsWritten: changes, rowsReturned: rows.length });
    return {
      columns,
      rows,
      meta: {
        served_by: "local-edge",
        served_by_region: opts.region,
        served_by_primary: true,
        timings: { sql_duration_ms: ms },
        duration: ms,
        changes,
        last_row_id: Number(after.r),
        changed_db: changes > 0 || ddl,
        size_after: 0,
        rows_read: rowsRead,
        rows_written: changes,
      },
    };
  }

  /** Runs one group (a query body, maybe several statements) inside the current transaction. */
  function runGroup(q: D1Query, index: number): StatementResult[] {
    const statements = splitSql(q.sql);
    if (statements.length === 0) throw new D1SqlError("No SQL statements detected.", index);
    const params = q.params ?? [];
    if (params.length > 0 && statements.length > 1) throw new D1SqlError("A query with parameters must be a single statement.", index);
    const out: StatementResult[] = [];
    for (const s of statements) {
      try {
        out.push(runStatement(s.sql, s.keyword, params, index));
      } catch (e) {
        if (e instanceof D1SqlError) throw e;
        if (e instanceof TypeError && !(e as { errcode?: number }).errcode) throw new D1SqlError(`D1_TYPE_ERROR: ${e.message}`, index);
        // With the offset workerd's D1 shows (variable-offset.ts).
        const offset =
          limitedNow && (e as Error).message === "too many SQL variables" ? variableOffset(s.sql, D1_LIMITS.variableNumber) : undefined;
        if (offset !== undefined) throw new D1SqlError(`too many SQL variables at offset ${offset}: SQLITE_ERROR`, index);
        throw sqlError(e, index);
      }
    }
    return out;
  }

  function inTransaction<T>(fn: () => T): T {
    pending = noUsage();
    pendingQueries = new Map();
    asInternal(() => db.exec("BEGIN"));
    try {
      const out = fn();
      asInternal(() => db.exec("COMMIT"));
      try {
        usage.add(now(), pending, pendingQueries);
      } catch {
        // Committed: the call's answer must say so. Its counts (analytics only) are lost when
        // they cannot be stored, e.g. on a full disk, where a read would otherwise fail.
      }
      return out;
    } catch (e) {
      if (db.isTransaction) asInternal(() => db.exec("ROLLBACK"));
      throw e;
    } finally {
      pending = noUsage();
      pendingQueries = new Map();
    }
  }

  /** After a call: capture what it committed, keep the wal short, snapshot when due. */
  function settle(): HistoryEntry {
    const entry = history.capture(now());
    if (entry) {
      // serialize() reads PRAGMA page_count, which the authorizer denies to Workers' SQL.
      if (history.snapshotDue())
        history.snapshot(
          entry.seq,
          asInternal(() => db.serialize()),
        );
      if (existsSync(walPath) && statSync(walPath).size > WAL_CHECKPOINT_BYTES) checkpoint();
    }
    return history.head();
  }

  /**
   * settle() after a call that committed (or failed): its answer must say what happened to the SQL,
   * not that the history entry could not be stored (a full disk); those frames stay in the wal and
   * go into the next call's entry.
   */
  function settleQuietly(): HistoryEntry {
    try {
      return settle();
    } catch {
      return history.head();
    }
  }

  const bookmarkOf = (e: HistoryEntry) => formatBookmark(opts.id, e.seq, e.atMs);

  function finish(results: StatementResult[][]) {
    // The call committed: its answer must say so even when its history entry cannot be stored
    // (a full disk); the frames stay in the wal and go into the next call's entry.
    const head = settleQuietly();
    const size = sizeBytes();
    for (const g of results) for (const r of g) r.meta.size_after = size;
    return { results, bookmark: bookmarkOf(head) };
  }

  return {
    /**
     * Runs `groups` in one transaction: all of them apply or none. Each group is one query body
     * and may hold several statements; the result holds every statement's result, per group.
     */
    runAtomic(groups: D1Query[], opts: { import?: boolean } = {}): { results: StatementResult[][]; bookmark: string } {
      try {
        return finish(limitedTo(!opts.import, () => inTransaction(() => groups.map((g, i) => runGroup(g, i)))));
      } finally {
        settleQuietly();
      }
    },

    /** Runs each group in its own transaction, in order, stopping at the first failure (exec()). */
    runEach(groups: D1Query[]): { results: StatementResult[][]; bookmark: string } {
      const results: StatementResult[][] = [];
      try {
        for (const [i, g] of groups.entries()) results.push(limitedTo(true, () => inTransaction(() => runGroup(g, i))));
        return finish(results);
      } finally {
        settleQuietly();
      }
    },

    bookmark(): string {
      return bookmarkOf(history.head());
    },
    /** The bookmark in force at `ms` (the creation bookmark for times before it). */
    bookmarkAt(ms: number): string {
      return bookmarkOf(history.at(ms));
    },
    /** Whether `bookmark` names a moment of this database still in its history. */
    knows(bookmark: string): boolean {
      const seq = parseBookmark(opts.id, bookmark);
      return seq !== undefined && history.entry(seq) !== undefined;
    },

    /** Restores the database to `bookmark` (which knows() accepted); the restore is itself a new moment. */
    restore(bookmark: string): { bookmark: string; previous_bookmark: string } {
      const seq = parseBookmark(opts.id, bookmark);
      if (seq === undefined || !history.entry(seq)) throw new Error(`Bookmark ${bookmark} is not in this database's history.`);
      const previous = bookmarkOf(settle());
      const image = history.image(seq);
      checkpoint();
      // The new image is written aside and its history entry stored before it replaces the
      // database: either can fail (a full disk), and then the database stays as it was, open,
      // with no entry claiming a restore that did not happen and no partial file left behind.
      const tmp = `${dbPath}.restore`;
      let entry: HistoryEntry;
      try {
        writeFileSync(tmp, image, { mode: 0o600 });
        entry = history.appendFull(image, pageSize, now());
      } catch (e) {
        rmSync(tmp, { force: true });
        throw e;
      }
      db.close();
      renameSync(tmp, dbPath);
      rmSync(walPath, { force: true });
      rmSync(`${dbPath}-shm`, { force: true });
      open();
      history.walReset();
      return { bookmark: bookmarkOf(entry), previous_bookmark: previous };
    },

    sizeBytes,
    numTables(): number {
      return asInternal(() =>
        Number(
          (
            db
              .prepare(
                "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'",
              )
              .get() as { n: number }
          ).n,
        ),
      );
    },

    /** Queries served per hour, for the hours starting in [fromMs, toMs] (usage.ts). */
    usage(fromMs: number, toMs: number): UsageHour[] {
      return usage.hours(fromMs, toMs);
    },
    /** Each statement text's figures over the hours starting in [fromMs, toMs] (usage.ts). */
    queries(fromMs: number, toMs: number): QueryRow[] {
      return usage.queries(fromMs, toMs);
    },

    /** Reads through the edge's own connection (for dumps): no authorizer limits, no capture. */
    read<T>(fn: (db: DatabaseSync) => T): T {
      return asInternal(() => fn(db));
    },

    close(): void {
      try {
        checkpoint();
      } finally {
        db.close();
        history.close();
        usage.close();
      }
    },
  };
}
export type D1Engine = ReturnType<typeof openD1Engine>;
