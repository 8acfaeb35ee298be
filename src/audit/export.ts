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
import { removeDeadTemps, tempOf } from "../config/dead-temps.ts";
import { CboError, isCboError } from "../kit/errors.ts";
import type { Db } from "../store/db.ts";
import { canonicalJson } from "./canonical.ts";
import { listCheckpoints, maxCheckpointSize } from "./checkpoints-table.ts";
import { entrySql, readHead, type EntryRow } from "./entries-table.ts";

export const EXPORT_FORMAT = "cbo.audit.export";

export type ExportOptions = {
  /** "checkpoints" (default): the small file to keep off the VPS; "all": entries too. */
  include?: "checkpoints" | "all";
  /** Only checkpoints with a larger tree size (incremental shipping). */
  sinceTreeSize?: number;
  now?: () => number;
  /** Entries per read (default 1,000). */
  pageRows?: number;
  /** exportStream: bytes of lines per chunk (default 1 MiB). */
  chunkBytes?: number;
};

/** Entries read per query: no statement stays open while a consumer (an HTTP client) is slow. */
const PAGE_ROWS = 1000;
const ENTRY_COLUMNS = "seq, at, actor, action, target, tenant, outcome, details, prev_hash, hash";
const pageSql = new WeakMap<Db, ReturnType<Db["prepare"]>>();

/** Rows with after < seq <= upTo, oldest first, at most `limit` of them. */
function entryPage(db: Db, after: number, upTo: number, limit: number): EntryRow[] {
  let stmt = pageSql.get(db);
  if (!stmt)
    pageSql.set(db, (stmt = db.prepare(`SELECT ${ENTRY_COLUMNS} FROM audit_entries WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?`)));
  return stmt.all(after, upTo, limit) as EntryRow[];
}

export function* exportLines(db: Db, opts: ExportOptions = {}): Generator<string> {
  const withEntries = opts.include === "all";
  // Bounds fixed up front so that the header's counts match the lines that follow, whatever is
  // appended while the export runs. Entries are read a page at a time, each page a statement run
  // to its end: the generator may be suspended for as long as its consumer likes (a streamed HTTP
  // answer) without holding a read snapshot open on the daemon's connection meanwhile.
  const head = readHead(db)?.seq ?? 0;
  const maxCp = maxCheckpointSize(db);
  const checkpoints = listCheckpoints(db, { sinceTreeSize: opts.sinceTreeSize ?? -1, upTo: maxCp });
  const entries = withEntries ? Number((entrySql(db).count.get(head) as { n: number }).n) : 0;
  yield canonicalJson({
    checkpoints: checkpoints.length,
    entries,
    exported_at: new Date((opts.now ?? Date.now)()).toISOString(),
    format: EXPORT_FORMAT,
    kind: "header",
    v: 1,
  });
  if (withEntries) {
    const pageRows = opts.pageRows ?? PAGE_ROWS;
    // From the lowest seq there is, so that a row planted below 1 is exported (and reported) too.
    for (let after = Number.MIN_SAFE_INTEGER; ; ) {
      const page = entryPage(db, after, head, pageRows);
      for (const row of page) {
        let details: unknown;
        try {
          details = JSON.parse(row.details);
        } catch {
          details = row.details; // exported as found: the verifier reports it, the evidence survives
        }
        yield canonicalJson({ ...row, details, kind: "entry" });
      }
      if (page.length < pageRows) break;
      after = page.at(-1)!.seq;
    }
  }
  for (const cp of checkpoints) yield canonicalJson({ ...cp, kind: "checkpoint" });
}

/**
 * The export as a byte stream that reads the log as it is consumed (about 1 MiB of lines per
 * chunk), for an HTTP answer: memory stays at one chunk however long the log. The header is read
 * before this returns, so a log that cannot be read fails here (ERR_AUDIT_UNAVAILABLE), while an
 * answer can still say so; a failure after that ends the stream with an error, and the header's
 * counts tell the reader that the export is short.
 */
export function exportStream(db: Db, opts: ExportOptions = {}): ReadableStream<Uint8Array> {
  const chunks = exportChunks(db, opts, opts.chunkBytes ?? 1 << 20);
  const first = chunks.next();
  const encoder = new TextEncoder();
  let pending: IteratorResult<string> | undefined = first;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const next = pending ?? chunks.next();
        pending = undefined;
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(next.value));
      },
      cancel() {
        chunks.return(undefined);
      },
    },
    { highWaterMark: 0 },
  );
}

/** Lines joined into chunks of about `bytes`; read failures become ERR_AUDIT_UNAVAILABLE. */
function* exportChunks(db: Db, opts: ExportOptions, bytes: number): Generator<string> {
  let buf = "";
  try {
    for (const line of exportLines(db, opts)) {
      buf += line + "\n";
      if (buf.length >= bytes) yield buf, (buf = "");
    }
  } catch (e) {
    throw new CboError("ERR_AUDIT_UNAVAILABLE", "The audit log could not be read for export.", { cause: e });
  }
  if (buf) yield buf;
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
  const chunks = exportChunks(db, opts, 1 << 20);
  const count = (chunk: string) => {
    // Canonical JSON escapes newlines inside strings: every "\n" ends a line.
    for (let i = chunk.indexOf("\n"); i !== -1; i = chunk.indexOf("\n", i + 1)) lines++;
    digest.update(chunk);
    bytes += Buffer.byteLength(chunk);
    return chunk;
  };
  if (url && url.protocol !== "file:") {
    const body = Array.from(chunks, count).join("");
    const where = url.origin;
    let res: Response;
    try {
      res = await (opts.fetch ?? fetch)(url, {
        method: opts.method ?? "PUT",
        headers: { "content-type": "application/x-ndjson", ...opts.headers },
        body,
      });
    } catch (e) {
      throw new CboError("ERR_IO", `The audit export could not be sent to ${where}.`, { cause: e });
    }
    await res.body?.cancel();
    if (!res.ok)
      throw new CboError("ERR_IO", `The audit export was refused by ${where}: HTTP ${res.status}.`, { details: { status: res.status } });
    return { dest: where, lines, bytes, sha256: digest.digest("hex") };
  }
  const file = url ? fileURLToPath(url) : (dest as string);
  // A copy left by an export killed mid-way (its process gone) goes now.
  removeDeadTemps(file);
  const tmp = tempOf(file);
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
