// Reading the log back: the last n entries, and a filtered search (newest matches first in the
// query, returned oldest first so that output reads like a log). Page backwards with `beforeSeq`.
import * as z from "zod";
import { CboError } from "../kit/errors.ts";
import type { Db } from "../store/db.ts";
import { entrySql, toEntry, type EntryRow } from "./entries-table.ts";
import type { AuditEntry } from "./schema.ts";

export const MAX_LIMIT = 10_000;

export const AuditSearchSchema = z.strictObject({
  actor: z.string().min(1).optional(),
  /** Exact, or a prefix ending in "*": "secret.*". */
  action: z.string().min(1).optional(),
  target: z.string().min(1).optional(),
  tenant: z.string().min(1).optional(),
  outcome: z.enum(["ok", "denied", "error"]).optional(),
  /** ISO timestamps, inclusive. */
  since: z.string().datetime({ offset: true }).optional(),
  until: z.string().datetime({ offset: true }).optional(),
  /** Case-insensitive substring of actor, action, target or details. */
  text: z.string().min(1).max(200).optional(),
  beforeSeq: z.number().int().min(1).optional(),
  limit: z.number().int().min(1).max(MAX_LIMIT).default(100),
});
export type AuditSearch = z.input<typeof AuditSearchSchema>;

const COLUMNS = "seq, at, actor, action, target, tenant, outcome, details, prev_hash, hash";
const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);
// Stored timestamps are UTC with milliseconds (toISOString); compare in the same spelling.
const utc = (iso: string) => new Date(iso).toISOString();

export function tail(db: Db, n: number): AuditEntry[] {
  const limit = Math.max(0, Math.min(Math.trunc(n), MAX_LIMIT));
  return (entrySql(db).tail.all(limit) as EntryRow[]).reverse().map(toEntry);
}

export function search(db: Db, input: AuditSearch): AuditEntry[] {
  const parsed = AuditSearchSchema.safeParse(input);
  if (!parsed.success) {
    throw new CboError("ERR_VALIDATION", "Invalid audit search.", {
      details: { issues: parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })) },
    });
  }
  const q = parsed.data;
  const where: string[] = [];
  const args: Array<string | number> = [];
  const add = (sql: string, ...values: Array<string | number>) => (where.push(sql), args.push(...values));
  if (q.actor) add("actor = ?", q.actor);
  if (q.action?.endsWith("*")) add("action LIKE ? ESCAPE '\\'", `${likeEscape(q.action.slice(0, -1))}%`);
  else if (q.action) add("action = ?", q.action);
  if (q.target) add("target = ?", q.target);
  if (q.tenant) add("tenant = ?", q.tenant);
  if (q.outcome) add("outcome = ?", q.outcome);
  if (q.since) add("at >= ?", utc(q.since));
  if (q.until) add("at <= ?", utc(q.until));
  if (q.beforeSeq) add("seq < ?", q.beforeSeq);
  if (q.text) {
    const like = `%${likeEscape(q.text)}%`;
    const cols = ["actor", "action", "target", "details"];
    add(`(${cols.map((c) => `${c} LIKE ? ESCAPE '\\'`).join(" OR ")})`, ...cols.map(() => like));
  }
  const sql = `SELECT ${COLUMNS} FROM audit_entries ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY seq DESC LIMIT ?`;
  return (db.prepare(sql).all(...args, q.limit) as EntryRow[]).reverse().map(toEntry);
}
