// The export file: JSON lines, each line canonical JSON (canonical.ts), "\n" after every line.
//
//   {"checkpoints":M,"entries":N,"exported_at":"…","format":"cbo.audit.export","kind":"header","v":1}
//   {"action":…,"actor":…,…,"kind":"entry",…,"seq":1,…}          N entry lines, in seq order
//   {"at":…,"head_hash":…,"key_id":…,"kind":"checkpoint",…}       M checkpoint lines, by tree_size
//
// An entry line is a stored entry plus "kind"; a checkpoint line is a checkpoint plus "kind". A
// checkpoints-only export (N = 0) is what goes somewhere the VPS cannot rewrite; a full export
// can be verified offline with nothing but the public key (read-export.ts, verify.ts).
import { createHash } from "node:crypto";
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { CboError, isCboError } from "../kit/errors.ts";
import type { Db } from "../store/db.ts";
import { canonicalJson } from "./canonical.ts";
import { listCheckpoints, maxCheckpointSize } from "./checkpoints-table.ts";
import { entrySql, iterateRows, readHead } from "./entries-table.ts";

export const EXPORT_FORMAT = "cbo.audit.export";

export type ExportOptions = {
  /** "checkpoints" (default): the small file to keep off the VPS; "all": entries too. */
  include?: "checkpoints" | "all";
  /** Only checkpoints with a larger tree size (incremental shipping). */
  sinceTreeSize?: number;
  now?: () => number;
};

export function* exportLines(db: Db, opts: ExportOptions = {}): Generator<string> {
  const withEntries = opts.include === "all";
  // Bounds fixed up front so that the header's counts match the lines that follow, whatever is
  // appended while the export runs (no transaction is held across the generator's yields).
  const head = readHead(db)?.seq ?? 0;
  const maxCp = maxCheckpointSize(db);
  const checkpoints = listCheckpoints(db, { sinceTreeSize: opts.sinceTreeSize ?? -1, upTo: maxCp });
  const entries = withEntries ? Number((entrySql(db).count.get(head) as { n: number }).n) : 0;
  yield canonicalJson({
    checkpoints: checkpoints.length, entries, exported_at: new Date((opts.now ?? Date.now)()).toISOString(),
    format: EXPORT_FORMAT, kind: "header", v: 1,
  });
  if (withEntries) {
    for (const row of iterateRows(db, Number.MIN_SAFE_INTEGER, head)) {
      let details: unknown;
      try {
        details = JSON.parse(row.details);
      } catch {
        details = row.details; // exported as found: the verifier reports it, the evidence survives
      }
      yield canonicalJson({ ...row, details, kind: "entry" });
    }
  }
  for (const cp of checkpoints) yield canonicalJson({ ...cp, kind: "checkpoint" });
}

export type ExportToOptions = ExportOptions & {
  method?: "PUT" | "POST";
  headers?: Record<string, string>;
  fetch?: typeof fetch;
};
export type ExportResult = { dest: string; lines: number; bytes: number; sha256: string };

/**
 * Writes an export to a file (atomically: temp file, fsync, rename) or sends it to an http(s) URL
 * with PUT (default) or POST. Errors name the file or the URL's origin only: a pre-signed URL's
 * path and query are credentials.
 */
export async function exportTo(db: Db, dest: string | URL, opts: ExportToOptions = {}): Promise<ExportResult> {
  const url = dest instanceof URL ? dest : /^https?:\/\//i.test(dest) ? new URL(dest) : undefined;
  const digest = createHash("sha256");
  let lines = 0;
  let bytes = 0;
  const chunks = (function* () {
    let buf = "";
    try {
      for (const line of exportLines(db, opts)) {
        buf += line + "\n";
        lines++;
        if (buf.length >= 1 << 20) (yield buf, (buf = ""));
      }
    } catch (e) {
      throw new CboError("ERR_AUDIT_UNAVAILABLE", "The audit log could not be read for export.", { cause: e });
    }
    if (buf) yield buf;
  })();
  const count = (chunk: string) => {
    digest.update(chunk);
    bytes += Buffer.byteLength(chunk);
    return chunk;
  };
  if (url && url.protocol !== "file:") {
    const body = Array.from(chunks, count).join("");
    const where = url.origin;
    let res: Response;
    try {
      res = await (opts.fetch ?? fetch)(url, { method: opts.method ?? "PUT", headers: { "content-type": "application/x-ndjson", ...opts.headers }, body });
    } catch (e) {
      throw new CboError("ERR_IO", `The audit export could not be sent to ${where}.`, { cause: e });
    }
    await res.body?.cancel();
    if (!res.ok) throw new CboError("ERR_IO", `The audit export was refused by ${where}: HTTP ${res.status}.`, { details: { status: res.status } });
    return { dest: where, lines, bytes, sha256: digest.digest("hex") };
  }
  const file = url ? fileURLToPath(url) : (dest as string);
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    const fd = openSync(tmp, "w", 0o644);
    try {
      for (const chunk of chunks) writeSync(fd, count(chunk));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    if (isCboError(e)) throw e;
    throw new CboError("ERR_IO", `The audit export could not be written to ${file}.`, { cause: e });
  }
  return { dest: file, lines, bytes, sha256: digest.digest("hex") };
}

export function exportText(db: Db, opts: ExportOptions = {}): string {
  return Array.from(exportLines(db, opts), (l) => l + "\n").join("");
}
