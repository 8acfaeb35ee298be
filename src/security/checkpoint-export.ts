// Ships every new audit checkpoint out of the database as it is signed: appended to a JSON-lines
// file (default <data>/audit-checkpoints.jsonl) or POSTed to a URL. The file stands in for "a place
// the VPS cannot rewrite" (point it at a mount or sync it away); a URL is that place. Each line is
// a checkpoint line of the export format (src/audit/FORMAT.md), so readAuditExport reads the file
// and `cbo audit verify --checkpoint <file>` checks the log against it.
import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, openSync, readFileSync, readSync, writeSync } from "node:fs";
import { canonicalJson, parseAuditExport, type AuditCheckpoint, type AuditLog } from "../audit/index.ts";
import { CboError } from "../kit/errors.ts";
import { classifyStorageError } from "../store/storage-errors.ts";

export type CheckpointExport = {
  /** Where checkpoints go: a file path or an http(s) URL. */
  dest: string;
  isUrl: boolean;
  /** The audit log's onCheckpoint hook. */
  onCheckpoint(cp: AuditCheckpoint): Promise<void>;
  /** Appends stored checkpoints the file lacks (after a crash between signing and writing). */
  catchUp(audit: AuditLog): void;
  /** The checkpoints in the file ([] for a URL). */
  read(): ReturnType<typeof parseAuditExport>["checkpoints"];
};

const NEWLINE = 0x0a;
/** How far back a cut-off last line is looked for: a checkpoint line is under 1 KiB. */
const TAIL_BYTES = 64 * 1024;

export function createCheckpointExport(opts: { dest: string; audit: () => AuditLog | undefined; fetch?: typeof fetch }): CheckpointExport {
  const isUrl = /^https?:\/\//i.test(opts.dest);
  let shipped = -1;

  function appendLines(cps: AuditCheckpoint[]): void {
    if (cps.length === 0) return;
    const text = cps.map((cp) => canonicalJson({ ...cp, kind: "checkpoint" }) + "\n").join("");
    let fd: number | undefined;
    let size: number | undefined;
    try {
      // 0600 like every file of the data directory (README "Security on the host"): a checkpoint
      // is public, but the daemon tightens this file to 0600 on every start anyway, so a 0644 one
      // lived only until the first restart and made a fresh data directory the odd one out.
      fd = openSync(opts.dest, "a+", 0o600);
      size = wholeLinesEnd(fd, fstatSync(fd).size);
      // A line a writer killed mid-way (kill -9, power off) left without its newline: cut off too,
      // or this append would run on from it and make the new checkpoint unreadable with it.
      if (size !== fstatSync(fd).size) ftruncateSync(fd, size);
      writeSync(fd, text);
      fsyncSync(fd);
    } catch (e) {
      // A line half written (the disk filled mid-line) would be unreadable forever after: cut it
      // off, so that the file stays whole lines and the next append goes after the last good one.
      if (fd !== undefined && size !== undefined) {
        try {
          ftruncateSync(fd, size);
        } catch {
          // the line stays; readers report it as unreadable, by position
        }
      }
      throw (
        classifyStorageError(e, { path: opts.dest, neededBytes: 1024 * 1024 }) ??
        new CboError("ERR_IO", `The audit checkpoint could not be appended to ${opts.dest}.`, { cause: e })
      );
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  /** Where the file's whole lines end: `size`, or just after its last newline when its tail is a cut-off line. */
  function wholeLinesEnd(fd: number, size: number): number {
    if (size === 0) return 0;
    const tail = Buffer.alloc(Math.min(size, TAIL_BYTES));
    readSync(fd, tail, 0, tail.length, size - tail.length);
    if (tail[tail.length - 1] === NEWLINE) return size;
    const nl = tail.lastIndexOf(NEWLINE);
    // No newline in the tail: more than a line's worth of bytes that are no checkpoint line; left
    // to the readers, which report it by position, and the append starts on a line of its own.
    if (nl < 0) {
      writeSync(fd, "\n");
      return size + 1;
    }
    return size - tail.length + nl + 1;
  }

  function lastInFile(): number {
    if (!existsSync(opts.dest)) return -1;
    let last = -1;
    for (const cp of read()) if (!("unreadable" in cp)) last = Math.max(last, cp.tree_size);
    return last;
  }

  function read() {
    if (isUrl || !existsSync(opts.dest)) return [];
    return parseAuditExport(readFileSync(opts.dest, "utf8")).checkpoints;
  }

  return {
    dest: opts.dest,
    isUrl,
    read,
    async onCheckpoint(cp) {
      if (cp.tree_size <= shipped) return;
      if (isUrl) {
        const audit = opts.audit();
        if (!audit) return;
        // Incremental: the receiver appends what it gets (POST), so nothing it holds is resent.
        await audit.exportTo(opts.dest, {
          include: "checkpoints",
          sinceTreeSize: shipped,
          method: "POST",
          ...(opts.fetch ? { fetch: opts.fetch } : {}),
        });
      } else {
        // Every stored checkpoint the file lacks, not only this one: one that failed to ship (a
        // full disk) goes out with the next.
        const missed =
          opts
            .audit()
            ?.checkpoints({ sinceTreeSize: shipped })
            .filter((c) => c.tree_size < cp.tree_size) ?? [];
        appendLines([...missed, cp]);
      }
      shipped = cp.tree_size;
    },
    catchUp(audit) {
      if (isUrl) return;
      const last = lastInFile();
      const missing = audit.checkpoints({ sinceTreeSize: last });
      appendLines(missing);
      shipped = Math.max(last, ...missing.map((c) => c.tree_size));
    },
  };
}
