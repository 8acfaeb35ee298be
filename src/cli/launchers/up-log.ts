// Where the daemon's log lines go under `cbo up`. The launcher prints its own progress on the
// terminal, so the daemon's access log (one info line per API request: the launcher's own calls,
// then every dashboard poll) would bury it. Every daemon line is kept in <data>/daemon.log (0600,
// appended across starts); the terminal gets all of them except the info-level access lines,
// unless --verbose (or --log-level debug) asks for everything. Warnings and errors always print.
// The file is capped: past `maxBytes` (default 10 MiB) it becomes daemon.log.1 (replacing the
// previous one) and a new file starts, so a `cbo up` left running for weeks (a dashboard polling)
// holds at most twice that. A write that fails (a full disk) cuts off the part of its line that
// made it, sends the lines to the terminal, and tries the file again after `retryMs`, so the
// file picks up again once there is room, without a restart.
import { closeSync, fstatSync, ftruncateSync, mkdirSync, openSync, renameSync, writeSync } from "node:fs";
import { join } from "node:path";
import { ACCESS_LOG_MSG, type LogEntry, type LogSink } from "../../telemetry/index.ts";

export type UpDaemonLog = {
  sink: LogSink;
  /** The file every line is kept in. */
  file: string;
  close(): void;
};

export function upDaemonLog(o: {
  dataDir: string;
  verbose: boolean;
  terminal: (line: string) => void;
  maxBytes?: number;
  /** After a failed write, how long the file is left alone before it is tried again (default 30 s). */
  retryMs?: number;
  now?: () => number;
}): UpDaemonLog {
  const file = join(o.dataDir, "daemon.log");
  const maxBytes = o.maxBytes ?? 10 * 1024 * 1024;
  const retryMs = o.retryMs ?? 30_000;
  const now = o.now ?? Date.now;
  let fd: number | undefined;
  let size = 0;
  let broken = false;
  let retryAt = 0;
  const keep = (line: string) => {
    if (broken && now() < retryAt) return;
    try {
      if (fd === undefined) {
        // The daemon makes the data dir 0700 itself; a first line may come before it has.
        mkdirSync(o.dataDir, { recursive: true, mode: 0o700 });
        fd = openSync(file, "a", 0o600);
        size = fstatSync(fd).size;
      }
      const bytes = Buffer.from(`${line}\n`);
      if (size > 0 && size + bytes.length > maxBytes) {
        closeSync(fd);
        renameSync(file, `${file}.1`);
        fd = openSync(file, "a", 0o600);
        size = 0;
      }
      // Synchronous: lines stay in order and are on disk even when the process is killed. A short
      // write (the disk filled mid-line) is one that failed: its part is cut off below.
      if (writeSync(fd, bytes) !== bytes.length)
        throw Object.assign(new Error("no space left on device (a short write)"), { code: "ENOSPC" });
      size += bytes.length;
      if (broken) {
        broken = false;
        o.terminal(`cbo: writing ${file} again`);
      }
    } catch (e) {
      // A full disk or a read-only dir must not stop the daemon: said once, then every line on the
      // terminal until the file takes lines again. What part of the line got in is cut off, so
      // the file holds whole lines only.
      if (fd !== undefined) {
        try {
          ftruncateSync(fd, size);
        } catch {
          // the cut-off line stays; readers see one short line
        }
        closeSync(fd);
        fd = undefined;
      }
      retryAt = now() + retryMs;
      if (broken) return;
      broken = true;
      o.terminal(
        `cbo: cannot write ${file} (${e instanceof Error ? e.message : String(e)}); the daemon's whole log goes to the terminal, the file is tried again every ${retryMs / 1000} s`,
      );
    }
  };
  const quiet = (entry: LogEntry) => !o.verbose && !broken && entry.level === "info" && entry.msg === ACCESS_LOG_MSG;
  return {
    file,
    sink: (line, entry) => {
      keep(line);
      if (!quiet(entry)) o.terminal(line);
    },
    close() {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}
