// Scheduled backups as orchestrator.yaml sets them (`backup: { every: 6h, keep: 14, dir: … }`) and
// as `cbo daemon --backup-every 6h --backup-keep 14 --backup-dir DIR` overrides them: each flag wins
// over its key. Without `every` from either, the daemon takes no scheduled backups.
import * as z from "zod";
import { CboError } from "../kit/errors.ts";

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const DURATION = /^(\d{1,6})(s|m|h|d|w)$/;

/** "90s", "30m", "6h", "1d", "2w" in milliseconds; undefined when it is none of those. */
export function durationMs(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  return m ? Number(m[1]) * UNIT_MS[m[2]!]! : undefined;
}

const Every = z
  .string()
  .refine((s) => (durationMs(s) ?? 0) >= 1000, "a duration of at least 1s, e.g. 6h, 30m, 1d")
  .describe("How often: 30m, 6h, 1d…");

/** `backup:` in orchestrator.yaml. */
export const BackupSpecSchema = z
  .object({
    every: Every,
    /** The newest archives kept in `dir` (older ones are removed after each backup). */
    keep: z.number().int().min(1).max(10_000).default(14),
    /** Where archives go; relative to orchestrator.yaml; default <data>/backups. */
    dir: z.string().min(1).optional(),
  })
  .strict();
export type BackupSpec = z.output<typeof BackupSpecSchema>;

/** The schedule the daemon runs: milliseconds, how many, where (absolute, or the default). */
export type BackupSchedule = { everyMs: number; keep: number; dir?: string };

/** `--backup-every` etc. as given (strings; undefined when absent). */
export type BackupFlags = { every?: string | undefined; keep?: string | undefined; dir?: string | undefined };

/** Flags over the spec's `backup:`, key by key; undefined when neither says how often. */
export function resolveBackupSchedule(spec: BackupSchedule | undefined, flags: BackupFlags = {}): BackupSchedule | undefined {
  let everyMs = spec?.everyMs;
  if (flags.every !== undefined) {
    everyMs = durationMs(flags.every);
    if (everyMs === undefined || everyMs < 1000)
      throw new CboError("ERR_USAGE", `--backup-every takes a duration of at least 1s (got "${flags.every}").`, {
        hint: "e.g. --backup-every 6h",
      });
  }
  let keep = spec?.keep;
  if (flags.keep !== undefined) {
    keep = /^\d{1,5}$/.test(flags.keep) ? Number(flags.keep) : NaN;
    if (!(keep >= 1 && keep <= 10_000))
      throw new CboError("ERR_USAGE", `--backup-keep takes a whole number from 1 to 10000 (got "${flags.keep}").`, {
        hint: "e.g. --backup-keep 14",
      });
  }
  const dir = flags.dir ?? spec?.dir;
  if (everyMs === undefined) {
    if (flags.keep !== undefined || flags.dir !== undefined)
      throw new CboError(
        "ERR_USAGE",
        "--backup-keep and --backup-dir need a schedule: --backup-every, or backup.every in orchestrator.yaml.",
        {
          hint: "e.g. --backup-every 6h --backup-keep 14",
        },
      );
    return undefined;
  }
  return { everyMs, keep: keep ?? 14, ...(dir === undefined ? {} : { dir }) };
}
