// Where the daemon's log lines go under `cbo up`. The launcher prints its own progress on the
// terminal, so the daemon's access log (one info line per API request: the launcher's own calls,
// then every dashboard poll) would bury it. Every daemon line is kept in <data>/daemon.log (0600,
// appended across starts); the terminal gets all of them except the info-level access lines,
// unless --verbose (or --log-level debug) asks for everything. Warnings and errors always print.
// The file is capped: past `maxBytes` (default 10 MiB) it becomes daemon.log.1 (replacing the
// previous one) and a new file starts, so a `cbo up` left running for weeks (a dashboard polling)
// holds at most twice that.
import { closeSync, fstatSync, mkdirSync, openSync, renameSync, writeSync } from "node:fs";
import { join } from "node:path";
import { ACCESS_LOG_MSG, type LogEntry, type LogSink } from "../../telemetry/index.ts";

export type UpDaemonLog = {
  sink: LogSink;
  /** The file every line is kept in. */
  file: string;
  close(): void;
};

export function upDaemonLog(o: { dataDir: string; verbose: boolean; terminal: (line: string) => void; maxBytes?: number }): UpDaemonLog {
  const file = join(o.dataDir, "daemon.log");
  const maxBytes = o.maxBytes ?? 10 * 1024 * 1024;
  let fd: number | undefined;
  let size = 0;
  let broken = false;
  const keep = (line: string) => {
    if (broken) return;
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
      // Synchronous: lines stay in order and are on disk even when the process is killed.
      writeSync(fd, bytes);
      size += bytes.length;
    } catch (e) {
      // A full disk or a read-only dir must not stop the daemon: said once, then every line on the terminal.
      broken = true;
      o.terminal(`cbo: cannot write ${file} (${e instanceof Error ? e.message : String(e)}); the daemon's whole log goes to the terminal`);
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
