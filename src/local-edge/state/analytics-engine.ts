// Analytics Engine data points written by Workers (writeDataPoint), kept per account and dataset
// so tests and the admin API can read back what a Worker wrote.
import type { EdgeDb } from "./db.ts";

export type DataPoint = {
  dataset: string;
  script: string;
  timestamp: string;
  index1: string | null;
  blobs: Array<string | null>;
  doubles: number[];
};

type Row = Record<string, unknown>;

export function createAnalyticsEngineStore(db: EdgeDb) {
  return {
    write(accountId: string, p: DataPoint): void {
      db.prepare(
        "INSERT INTO ae_datapoints (account_id, dataset, script, timestamp, index1, blobs, doubles) VALUES (?, ?, ?, ?, ?, ?, ?)",
      ).run(accountId, p.dataset, p.script, p.timestamp, p.index1, JSON.stringify(p.blobs), JSON.stringify(p.doubles));
    },
    list(accountId: string, dataset: string, limit = 1000): DataPoint[] {
      return (
        db
          .prepare("SELECT * FROM ae_datapoints WHERE account_id = ? AND dataset = ? ORDER BY timestamp DESC, rowid DESC LIMIT ?")
          .all(accountId, dataset, limit) as Row[]
      ).map((r) => ({
        dataset: r.dataset as string,
        script: r.script as string,
        timestamp: r.timestamp as string,
        index1: (r.index1 as string | null) ?? null,
        blobs: JSON.parse(r.blobs as string),
        doubles: JSON.parse(r.doubles as string),
      }));
    },
  };
}
export type AnalyticsEngineStore = ReturnType<typeof createAnalyticsEngineStore>;
