// What one D1 database served, per hour, for the GraphQL dataset `d1AnalyticsAdaptiveGroups`
// (`wrangler d1 info` shows the last 24 hours of it). Counted as Cloudflare counts: every
// statement that succeeded, from the API and from Workers' bindings alike; a statement that
// changed the database (rows or schema) is a write query, any other a read query. Kept in
// <db dir>/usage.sqlite, apart from the database and its Time Travel history, so that neither
// an export nor a restore touches it; hours older than RETENTION_MS are dropped.
import { DatabaseSync } from "node:sqlite";
import { ensurePrivateFile } from "../../config/private-fs.ts";

export type UsageCounts = { readQueries: number; writeQueries: number; rowsRead: number; rowsWritten: number };
export type UsageHour = UsageCounts & { hourMs: number };

const HOUR_MS = 3600_000;
const RETENTION_MS = 31 * 24 * HOUR_MS;

export const noUsage = (): UsageCounts => ({ readQueries: 0, writeQueries: 0, rowsRead: 0, rowsWritten: 0 });

export function openUsage(path: string) {
  ensurePrivateFile(path);
  const db = new DatabaseSync(path);
  db.exec(`CREATE TABLE IF NOT EXISTS usage_hours (hour_ms INTEGER PRIMARY KEY, read_queries INTEGER NOT NULL,
    write_queries INTEGER NOT NULL, rows_read INTEGER NOT NULL, rows_written INTEGER NOT NULL)`);
  const add = db.prepare(`INSERT INTO usage_hours VALUES (?, ?, ?, ?, ?) ON CONFLICT (hour_ms) DO UPDATE SET
    read_queries = read_queries + excluded.read_queries, write_queries = write_queries + excluded.write_queries,
    rows_read = rows_read + excluded.rows_read, rows_written = rows_written + excluded.rows_written`);
  const range = db.prepare(
    "SELECT hour_ms, read_queries, write_queries, rows_read, rows_written FROM usage_hours WHERE hour_ms >= ? AND hour_ms <= ? ORDER BY hour_ms",
  );
  const prune = db.prepare("DELETE FROM usage_hours WHERE hour_ms < ?");
  return {
    add(atMs: number, c: UsageCounts): void {
      if (c.readQueries + c.writeQueries === 0) return;
      const hour = Math.floor(atMs / HOUR_MS) * HOUR_MS;
      add.run(hour, c.readQueries, c.writeQueries, c.rowsRead, c.rowsWritten);
      prune.run(hour - RETENTION_MS);
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
