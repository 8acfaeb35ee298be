// A restore stopped part-way (SIGKILL, a crash, the machine off) never reaches its own cleanup:
// its target holds files written from an archive whose authentication tag (checked at the end)
// and audit chain were never verified, possibly cut short. restoreBackup writes a marker file
// before the first byte and removes it only once everything verified; while it is there:
//   - the daemon refuses to start on the directory (its database is not one to trust);
//   - `cbo restore` into the directory again clears what the stopped restore left (the marker
//     shows those files are its own) and starts over, unless that restore's process still runs.
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { CboError } from "../kit/errors.ts";
import { processAlive } from "../config/process-alive.ts";

export const RESTORE_MARKER = "restore-incomplete";

export type MarkerBody = { pid: number; archive: string; startedAt: string };

/** Throws ERR_STORE_CORRUPT when `dataDir` holds a restore that did not finish. */
export function refuseInterruptedRestore(dataDir: string): void {
  const marker = join(dataDir, RESTORE_MARKER);
  if (!existsSync(marker)) return;
  const body = readMarker(marker);
  throw new CboError(
    "ERR_STORE_CORRUPT",
    `${dataDir} holds a restore that did not finish${body ? ` (of ${body.archive}, started ${body.startedAt})` : ""}: its database was never verified and may be incomplete, so the daemon refuses to start on it.`,
    {
      details: { path: dataDir, marker },
      hint: `Run the restore again into the same directory: cbo restore ${body?.archive ?? "<archive>"} --data ${dataDir} (it clears what the stopped one left).`,
    },
  );
}

/**
 * For a restore into `dir`: what a stopped restore left there (its marker and files among
 * `written`) is removed, and true returned; false when there is no marker. A restore whose process
 * still runs is not touched: ERR_CONFLICT.
 */
export function clearInterruptedRestore(dir: string, written: readonly string[]): boolean {
  const marker = join(dir, RESTORE_MARKER);
  if (!existsSync(marker)) return false;
  const body = readMarker(marker);
  if (body && body.pid !== process.pid && processAlive(body.pid)) {
    throw new CboError("ERR_CONFLICT", `A restore into ${dir} is running (process ${body.pid}).`, {
      hint: "Wait for it to finish, or stop it and run the restore again.",
    });
  }
  const ours = new Set([RESTORE_MARKER, ...written]);
  const other = readdirSync(dir).filter((n) => !ours.has(n));
  if (other.length > 0) return false; // something else is there too: checkTarget refuses the directory as it is
  for (const name of written) rmSync(join(dir, name), { force: true });
  rmSync(marker, { force: true });
  return true;
}

function readMarker(file: string): MarkerBody | undefined {
  try {
    const body = JSON.parse(readFileSync(file, "utf8")) as MarkerBody;
    return typeof body?.pid === "number" && typeof body.archive === "string" ? body : undefined;
  } catch {
    return undefined;
  }
}
