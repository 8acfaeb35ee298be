// Human output for the audit log: one line per entry, oldest first, like a log file. Details are
// printed as compact JSON; they never hold a value (the audit log records values only as keyed
// hashes), so nothing here needs masking.
import type { AuditEntryResponse } from "../contract/index.ts";

/** What a line shows of an entry (an AuditEntryResponse, or any entry with these fields). */
type Entry = Pick<AuditEntryResponse, "seq" | "at" | "actor" | "action" | "target" | "details"> & { outcome: string };
import { table } from "./table.ts";

export function auditRow(e: Entry): string[] {
  const details = Object.keys(e.details).length ? JSON.stringify(e.details) : "";
  return [`#${e.seq}`, e.at, e.actor, e.action, e.target ?? "-", e.outcome, details];
}

export function formatAuditEntries(entries: Entry[], empty: string): string {
  if (entries.length === 0) return empty + "\n";
  return table(entries.map(auditRow)) + "\n";
}

/** The API answers newest first; a log reads oldest first. */
export const oldestFirst = <E extends Entry>(entries: E[]) => [...entries].sort((a, b) => a.seq - b.seq);
