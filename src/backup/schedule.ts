// Backups on a timer, with retention. States:
//
//   waiting  --timer (every ms) or runNow()-->  running
//   running  --archive written, older ones pruned, or failure logged-->  waiting (timer re-armed)
//   any      --stop()-->  stopped (a running backup is awaited first; no timer is armed again)
//
// Runs never overlap: runNow() during a run returns that run. A failure never stops the schedule:
// it is logged (and passed to onError) and the next run comes `every` ms later. The timer is
// unref'd, so it never keeps a process alive on its own. While the disk is full (paused()) a due
// backup is skipped, not attempted.
import { join, resolve } from "node:path";
import * as z from "zod";
import { CboError, toCboError } from "../kit/errors.ts";
import type { Db } from "../store/db.ts";
import type { MasterKey } from "../vault/index.ts";
import type { BackupResult } from "./create.ts";
import { backupNow, DEFAULT_BACKUP_DIR } from "./run.ts";
import { type Logger, silentLogger } from "../telemetry/index.ts";

export type BackupScheduleOptions = {
  dataDir: string;
  /** The daemon's open connection (only its file name is used: the copy reads through its own). */
  db?: Db;
  /** The key that seals each archive; a function when it can change (online master-key rotation). */
  masterKey: MasterKey | (() => MasterKey);
  /** Milliseconds between backups. */
  every: number;
  /** How many archives to keep in `dir` (the newest). */
  keep: number;
  /** Default <dataDir>/backups. */
  dir?: string;
  log?: Logger;
  /** After each archive is written, e.g. to append a `backup.created` audit entry. */
  onBackup?: (r: BackupResult & { removed: string[] }) => void | Promise<void>;
  onError?: (e: CboError) => void;
  now?: () => Date;
  /** Signs an audit checkpoint just before each copy (createBackup's `checkpoint`). */
  checkpoint?: () => Promise<unknown>;
  /** True while the disk is full: a due backup is skipped (logged) and the next one comes `every` ms later. */
  paused?: () => boolean;
};

export type BackupSchedule = {
  /** One backup now (or the one already running). */
  runNow(): Promise<BackupResult & { removed: string[] }>;
  stop(): Promise<void>;
};

const Settings = z.object({ every: z.number().int().min(1), keep: z.number().int().min(1).max(10_000) });

export function startBackupSchedule(opts: BackupScheduleOptions): BackupSchedule {
  const parsed = Settings.safeParse({ every: opts.every, keep: opts.keep });
  if (!parsed.success) {
    throw new CboError(
      "ERR_VALIDATION",
      `Invalid backup schedule: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}.`,
    );
  }
  const dataDir = resolve(opts.dataDir);
  const dir = resolve(opts.dir ?? join(dataDir, DEFAULT_BACKUP_DIR));
  const log = opts.log ?? silentLogger;
  const now = opts.now ?? (() => new Date());
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<BackupResult & { removed: string[] }> | undefined;
  let stopped = false;

  async function once(): Promise<BackupResult & { removed: string[] }> {
    const at = now();
    const masterKey = typeof opts.masterKey === "function" ? opts.masterKey() : opts.masterKey;
    const result = await backupNow({
      dataDir,
      ...(opts.db ? { db: opts.db } : {}),
      masterKey,
      dir,
      keep: opts.keep,
      now: () => at,
      ...(opts.checkpoint ? { checkpoint: opts.checkpoint } : {}),
    });
    const { removed } = result;
    log.info(
      `backup: wrote ${result.file} (${result.bytes} bytes, ${result.audit.entries} audit entries)${removed.length ? `; removed ${removed.length} older archive(s), keeping ${opts.keep}` : ""}`,
    );
    await opts.onBackup?.(result);
    return result;
  }

  function run(): Promise<BackupResult & { removed: string[] }> {
    if (running) return running;
    clearTimeout(timer);
    running = once().finally(() => {
      running = undefined;
      arm();
    });
    return running;
  }

  function arm(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      if (opts.paused?.()) {
        log.warn("backup: skipped, the disk is full; the next one is due in the usual interval");
        timer = undefined;
        return arm();
      }
      run().catch((e: unknown) => {
        const err = toCboError(e);
        log.error(`backup: failed: ${err.code}: ${err.message}`);
        opts.onError?.(err);
      });
    }, opts.every);
    timer.unref();
  }

  arm();
  return {
    runNow: () => {
      if (stopped) return Promise.reject(new CboError("ERR_CONFLICT", "The backup schedule is stopped."));
      return run();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running?.catch(() => {});
    },
  };
}
