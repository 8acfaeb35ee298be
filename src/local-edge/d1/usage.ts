// What one D1 database served, per hour, for the GraphQL dataset `d1AnalyticsAdaptiveGroups`
// (`wrangler d1 info` shows the last 24 hours of it). Counted as Cloudflare counts: every
// statement that succeeded, from the API and from Workers' bindings alike; a statement that
// changed the database (rows or schema) is a write query, any other a read query. Kept in
// <db dir>/usage.sqlite, apart from the database and its Time Travel history, so that neither
// an export nor a restore touches it; hours older than RETENTION_MS are dropped.
//
// Per statement text as well, for `d1QueriesAdaptiveGroups` (`wrangler d1 insights`): how often each
// query ran in the hour, its time and rows. The text is the statement as sent (parameters stay `?`),
// cut at MAX_QUERY_CHARS; an hour keeps at most MAX_QUERIES_PER_HOUR distinct texts, so a Worker
// that inlines values into its SQL cannot grow the file without bound (later texts go uncounted).
import { DatabaseSync } from "node:sqlite";
import { ensurePrivateFile } from "../../config/private-fs.ts";

export type UsageCounts = { readQueries: number; writeQueries: number; rowsRead: number; rowsWritten: number };
export type UsageHour = UsageCounts & { hourMs: number };

const HOUR_MS = 3600_000;
const RETENTION_MS = 31 * 24 * HOUR_MS;

export const noUsage = (): UsageCounts => ({ readQueries: 0, writeQueries: 0, rowsRead: 0, rowsWritten: 0 });

export type QueryStats = { count: number; durationMs: number; rowsRead: number; rowsWritten: number; rowsReturned: number };
export type QueryRow = QueryStats & { query: string };

export const MAX_QUERY_CHARS = 4096;
export const MAX_QUERIES_PER_HOUR = 1000;

/** Adds one statement's figures to `into`, keyed by its text. */
export function countQuery(into: Map<string, QueryStats>, sql: string, s: Omit<QueryStats, "count">): void {
  const text = sql.trim().slice(0, MAX_QUERY_CHARS);
  const q = into.get(text) ?? { count: 0, durationMs: 0, rowsRead: 0, rowsWritten: 0, rowsReturned: 0 };
  q.count++;
  q.durationMs += s.durationMs;
  q.rowsRead += s.rowsRead;
  q.rowsWritten += s.rowsWritten;
  q.rowsReturned += s.rowsReturned;
  into.set(text, q);
}

export function openUsage(path: string) {
  ensurePrivateFile(path);
  const db = new DatabaseSync(path);
  // Like the database and its history: a commit is one append to the wal, not a journal file and
  // several syncs; every call that ran a statement writes here.
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
  db.exec(`CREATE TABLE IF NOT EXISTS usage_hours (hour_ms INTEGER PRIMARY KEY, read_queries INTEGER NOT NULL,
    write_queries INTEGER NOT NULL, rows_read INTEGER NOT NULL, rows_written INTEGER NOT NULL)`);
  const add = db.prepare(`INSERT INTO usage_hours VALUES (?, ?, ?, ?, ?) ON CONFLICT (hour_ms) DO UPDATE SET
    read_queries = read_queries + excluded.read_queries, write_queries = write_queries + excluded.write_queries,
    rows_read = rows_read + excluded.rows_read, rows_written = rows_written + excluded.rows_written`);
  const range = db.prepare(
    "SELECT hour_ms, read_queries, write_queries, rows_read, rows_written FROM usage_hours WHERE hour_ms >= ? AND hour_ms <= ? ORDER BY hour_ms",
  );
  const prune = db.prepare("DELETE FROM usage_hours WHERE hour_ms < ?");
  db.exec(`CREATE TABLE IF NOT EXISTS query_hours (hour_ms INTEGER NOT NULL, query TEXT NOT NULL, count INTEGER NOT NULL,
    duration_ms REAL NOT NULL, rows_read INTEGER NOT NULL, rows_written INTEGER NOT NULL, rows_returned INTEGER NOT NULL,
    PRIMARY KEY (hour_ms, query))`);
  const addQuery = db.prepare(`INSERT INTO query_hours SELECT $hour, $query, $count, $ms, $read, $written, $returned
    WHERE (SELECT count(*) FROM query_hours WHERE hour_ms = $hour) < ${MAX_QUERIES_PER_HOUR}
       OR EXISTS (SELECT 1 FROM query_hours WHERE hour_ms = $hour AND query = $query)
    ON CONFLICT (hour_ms, query) DO UPDATE SET count = count + excluded.count, duration_ms = duration_ms + excluded.duration_ms,
      rows_read = rows_read + excluded.rows_read, rows_written = rows_written + excluded.rows_written,
      rows_returned = rows_returned + excluded.rows_returned`);
  const queryRange = db.prepare(`SELECT query, sum(count) AS count, sum(duration_ms) AS ms, sum(rows_read) AS rr,
    sum(rows_written) AS rw, sum(rows_returned) AS rt FROM query_hours WHERE hour_ms >= ? AND hour_ms <= ? GROUP BY query`);
  const pruneQueries = db.prepare("DELETE FROM query_hours WHERE hour_ms < ?");
  return {
    add(atMs: number, c: UsageCounts, queries?: ReadonlyMap<string, QueryStats>): void {
      if (c.readQueries + c.writeQueries === 0) return;
      const hour = Math.floor(atMs / HOUR_MS) * HOUR_MS;
      // One transaction: one sync of the file per call, however many statements it ran.
      db.exec("BEGIN");
      try {
        add.run(hour, c.readQueries, c.writeQueries, c.rowsRead, c.rowsWritten);
        for (const [query, q] of queries ?? []) {
          addQuery.run({
            hour,
            query,
            count: q.count,
            ms: q.durationMs,
            read: q.rowsRead,
            written: q.rowsWritten,
            returned: q.rowsReturned,
          });
        }
        prune.run(hour - RETENTION_MS);
        pruneQueries.run(hour - RETENTION_MS);
        db.exec("COMMIT");
      } catch (e) {
        // SQLITE_FULL may have rolled the transaction back already: a ROLLBACK then would throw
        // "no transaction is active" in place of the error that says what happened.
        if (db.isTransaction) db.exec("ROLLBACK");
        throw e;
      }
    },
    /** Each query text's figures over the hours that start in [fromMs, toMs]. */
    queries(fromMs: number, toMs: number): QueryRow[] {
      return (queryRange.all(fromMs, toMs) as Array<Record<string, number | string>>).map((r) => ({
        query: String(r.query),
        count: Number(r.count),
        durationMs: Number(r.ms),
        rowsRead: Number(r.rr),
        rowsWritten: Number(r.rw),
        rowsReturned: Number(r.rt),
      }));
    },
    /** The hours that start in [fromMs, toMs], oldest first. */
    hours(fromMs: number, toMs: number): UsageHour[] {
      return (range.all(fromMs, toMs) as Array<Record<string, number>>).map((r) => ({
        hourMs: r.hour_ms!,
        readQueries: r.read_queries!,
        writeQueries: r.write_queries!,
        rowsRead: r.rows_read!,
        rowsWritten: r.rows_written!,
      }));
    },
    close(): void {
      db.close();
    },
  };
}
export type Usage = ReturnType<typeof openUsage>;
