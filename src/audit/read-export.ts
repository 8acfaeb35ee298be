// Reads an export file (export.ts) for the offline verifier. Tolerant on purpose: a line that does
// not parse is evidence, not a reason to stop, so it becomes an "unreadable" entry or checkpoint
// that the verifier reports at its position. Which of the two it is comes from the header's
// counts (entries come first); without a readable header, from the checkpoint-only field names.
import { readFileSync } from "node:fs";
import * as z from "zod";
import { EXPORT_FORMAT } from "./export.ts";
import {
  AuditCheckpointSchema,
  AuditEntrySchema,
  type AuditCheckpoint,
  type AuditEntry,
  type VerifyCheckpoint,
  type VerifyEntry,
} from "./schema.ts";

const HeaderSchema = z.strictObject({
  kind: z.literal("header"),
  format: z.literal(EXPORT_FORMAT),
  v: z.literal(1),
  entries: z.number().int().min(0),
  checkpoints: z.number().int().min(0),
  exported_at: z.string(),
});
export type ExportHeader = z.infer<typeof HeaderSchema>;

const EntryLine = AuditEntrySchema.extend({ kind: z.literal("entry") });
const CheckpointLine = AuditCheckpointSchema.extend({ kind: z.literal("checkpoint") });

export type AuditExport = {
  header: ExportHeader | undefined;
  entries: VerifyEntry[];
  checkpoints: VerifyCheckpoint[];
  /** The last line, unreadable and without its newline, left out (only with `appended`). */
  cutOffLine?: number;
};

export type ReadExportOptions = {
  /**
   * The file is appended to line by line (the daemon's checkpoint file, src/security/
   * checkpoint-export.ts): an unreadable last line without its newline is an append that was
   * interrupted (kill -9, power loss), which the daemon drops at its next start. It is left out
   * and reported as `cutOffLine`, as `cbo audit verify` does, instead of counting as a damaged
   * checkpoint. Damage anywhere else, or a last line that has its newline, stays evidence.
   */
  appended?: boolean;
};

export function readAuditExport(file: string, opts: ReadExportOptions = {}): AuditExport {
  return parseAuditExport(readFileSync(file, "utf8"), opts);
}

export function parseAuditExport(text: string, opts: ReadExportOptions = {}): AuditExport {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  const unterminated = !text.endsWith("\n") && lines.length > 0;
  let header: ExportHeader | undefined;
  let start = 0;
  if (lines.length > 0) {
    const h = HeaderSchema.safeParse(tryJson(lines[0]!));
    if (h.success) header = h.data;
    if (h.success || /"kind":"header"|cbo\.audit\.export/.test(lines[0]!)) start = 1;
  }
  const entries: VerifyEntry[] = [];
  const checkpoints: VerifyCheckpoint[] = [];
  for (let i = start; i < lines.length; i++) {
    const line = lines[i]!;
    const json = tryJson(line);
    const entry = EntryLine.safeParse(json);
    if (entry.success) {
      entries.push(strip(entry.data) as AuditEntry);
      continue;
    }
    const cp = CheckpointLine.safeParse(json);
    if (cp.success) {
      checkpoints.push(strip(cp.data) as AuditCheckpoint);
      continue;
    }
    if (opts.appended && unterminated && i === lines.length - 1) return { header, entries, checkpoints, cutOffLine: i + 1 };
    const isCheckpoint = header
      ? i - start >= header.entries
      : (line.match(/"(tree_size|merkle_root|head_hash|signature|key_id)":/g) ?? []).length >= 2;
    if (!isCheckpoint) entries.push({ unreadable: true, line: i + 1 });
    else {
      const size = /"tree_size":(\d+)/.exec(line)?.[1];
      checkpoints.push({ unreadable: true, line: i + 1, ...(size ? { tree_size: Number(size) } : {}) });
    }
  }
  return { header, entries, checkpoints };
}

function tryJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

function strip<T extends { kind: string }>(x: T): Omit<T, "kind"> {
  const { kind: _kind, ...rest } = x;
  return rest;
}
