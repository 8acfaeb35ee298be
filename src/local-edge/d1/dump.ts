// `wrangler d1 export --remote`: the database as SQL text that `d1 execute --file` can import
// again, shaped like D1's own export (and sqlite3's .dump): foreign keys deferred, each table's
// CREATE followed by its rows as INSERTs, then indexes, triggers and views. A virtual table (FTS5)
// cannot go through that round trip (its shadow tables are the engine's own), so D1 refuses to
// export one, with the text below; `--compatibility sqlite3_cli_only` is the way (dump-sqlite3.ts).
import type { DatabaseSync } from "node:sqlite";

export type DumpOptions = {
  no_schema?: boolean;
  no_data?: boolean;
  tables?: string[];
  /** wrangler 4.1xx `--compatibility`: D1's format (the default) or the sqlite3 shell's `.dump`. */
  compatibility?: "d1" | "sqlite3_cli_only";
};

/** An export D1's format cannot express; the API answers it in the polling object's `error`. */
export class D1ExportRefused extends Error {}

const quoteIdent = (s: string) => `"${s.replaceAll('"', '""')}"`;

function literal(v: unknown): string {
  if (v === null || v === undefined) return "NULL";
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : v > 0 ? "9e999" : v < 0 ? "-9e999" : "NULL";
  if (v instanceof Uint8Array) return `X'${Buffer.from(v).toString("hex")}'`;
  return `'${String(v).replaceAll("'", "''")}'`;
}

type MasterRow = { type: string; name: string; tbl_name: string; sql: string | null };

export function dumpSql(db: DatabaseSync, opts: DumpOptions): string {
  const wanted = opts.tables && opts.tables.length > 0 ? new Set(opts.tables) : undefined;
  const master = db
    .prepare(
      "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' ORDER BY rowid",
    )
    .all() as MasterRow[];
  const tables = master.filter((m) => m.type === "table" && (!wanted || wanted.has(m.name)));
  const lines: string[] = ["PRAGMA defer_foreign_keys=TRUE;"];
  for (const t of tables) {
    if (t.sql?.startsWith("CREATE VIRTUAL TABLE")) {
      throw new D1ExportRefused(
        "D1 Export error: cannot export databases with Virtual Tables (fts5). Export with `--compatibility sqlite3_cli_only` (for the sqlite3 shell, not D1), or name the other tables with --table.",
      );
    }
    if (!opts.no_schema) lines.push(`${t.sql};`);
    if (opts.no_data) continue;
    const stmt = db.prepare(`SELECT * FROM ${quoteIdent(t.name)}`);
    stmt.setReadBigInts(true);
    stmt.setReturnArrays(true);
    const cols = stmt
      .columns()
      .map((c) => quoteIdent(c.name))
      .join(",");
    for (const row of stmt.iterate() as Iterable<unknown[]>) {
      lines.push(`INSERT INTO ${quoteIdent(t.name)} (${cols}) VALUES(${row.map(literal).join(",")});`);
    }
  }
  if (!opts.no_data && !wanted) {
    const hasSeq = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").get();
    if (hasSeq) {
      lines.push("DELETE FROM sqlite_sequence;");
      for (const r of db.prepare("SELECT name, seq FROM sqlite_sequence").all() as Array<{ name: string; seq: number }>) {
        lines.push(`INSERT INTO "sqlite_sequence" VALUES(${literal(r.name)},${literal(r.seq)});`);
      }
    }
  }
  if (!opts.no_schema) {
    for (const m of master) {
      if (m.type === "table") continue;
      if (wanted && !wanted.has(m.tbl_name)) continue;
      lines.push(`${m.sql};`);
    }
  }
  return lines.join("\n") + "\n";
}
