// `wrangler d1 export --remote --compatibility sqlite3_cli_only`: the database as the sqlite3
// shell's `.dump` writes it, virtual tables included (their schema rows go in through
// `PRAGMA writable_schema`, their shadow tables as plain tables). sqlite3 loads it back; D1 does
// not (it refuses BEGIN and writable_schema), which is why D1's own format refuses virtual tables.
import type { DatabaseSync } from "node:sqlite";

type MasterRow = { type: string; name: string; tbl_name: string; sql: string };

const PLAIN = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ident = (s: string) => (PLAIN.test(s) ? s : `"${s.replaceAll('"', '""')}"`);
const text = (s: string) => `'${s.replaceAll("'", "''")}'`;
/** A string value as the shell writes it: line breaks spelled out, then put back with replace(). */
function textValue(s: string): string {
  const nl = s.includes("\\n") ? "\\012" : "\\n";
  const cr = s.includes("\\r") ? "\\015" : "\\r";
  let out = text(s.replaceAll("\n", nl).replaceAll("\r", cr));
  if (s.includes("\r")) out = `replace(${out},'${cr}',char(13))`;
  if (s.includes("\n")) out = `replace(${out},'${nl}',char(10))`;
  return out;
}

/** A value as the shell's insert mode writes it; a REAL stays REAL (`3.0`, not `3`). */
function literal(v: unknown): string {
  if (v === null || v === undefined) return "NULL";
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "number") {
    if (v === Number.POSITIVE_INFINITY) return "9.0e+999";
    if (v === Number.NEGATIVE_INFINITY) return "-9.0e+999";
    if (Number.isNaN(v)) return "NULL";
    const s = String(v);
    return /[.e]/.test(s) ? s : `${s}.0`;
  }
  if (v instanceof Uint8Array) return `X'${Buffer.from(v).toString("hex")}'`;
  return textValue(String(v));
}

export function dumpSqlite3Cli(db: DatabaseSync, tables?: string[]): string {
  const wanted = tables && tables.length > 0 ? new Set(tables) : undefined;
  const out: string[] = ["PRAGMA foreign_keys=OFF;", "BEGIN TRANSACTION;"];
  let writableSchema = false;
  const master = db
    .prepare(
      "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE type = 'table' AND sql NOT NULL ORDER BY tbl_name = 'sqlite_sequence', rowid",
    )
    .all() as MasterRow[];
  for (const t of master) {
    if (wanted && !wanted.has(t.name)) continue;
    if (t.name === "sqlite_sequence") out.push("DELETE FROM sqlite_sequence;");
    else if (/^sqlite_stat.$/.test(t.name)) out.push("ANALYZE sqlite_schema;");
    else if (t.name.startsWith("sqlite_") || t.name.startsWith("_cf_")) continue;
    else if (t.sql.startsWith("CREATE VIRTUAL TABLE")) {
      if (!writableSchema) out.push("PRAGMA writable_schema=ON;");
      writableSchema = true;
      out.push(
        `INSERT INTO sqlite_schema(type,name,tbl_name,rootpage,sql)VALUES('table',${text(t.name)},${text(t.name)},0,${text(t.sql)});`,
      );
      continue;
    } else out.push(/^CREATE TABLE ['"]/.test(t.sql) ? `CREATE TABLE IF NOT EXISTS ${t.sql.slice(13)};` : `${t.sql};`);
    const stmt = db.prepare(`SELECT * FROM "${t.name.replaceAll('"', '""')}"`);
    stmt.setReadBigInts(true);
    stmt.setReturnArrays(true);
    for (const row of stmt.iterate() as Iterable<unknown[]>)
      out.push(`INSERT INTO ${ident(t.name)} VALUES(${row.map(literal).join(",")});`);
  }
  const rest = db
    .prepare("SELECT tbl_name, sql FROM sqlite_master WHERE sql NOT NULL AND type IN ('index', 'trigger', 'view') ORDER BY rowid")
    .all() as Array<{ tbl_name: string; sql: string }>;
  for (const r of rest) if (!wanted || wanted.has(r.tbl_name)) out.push(`${r.sql};`);
  if (writableSchema) out.push("PRAGMA writable_schema=OFF;");
  out.push("COMMIT;");
  return `${out.join("\n")}\n`;
}
