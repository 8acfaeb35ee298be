// The tunnel's files in <data>/tunnel (a 0700 folder): the connector token, cloudflared's config
// and the record. Each is written to a temporary file created 0600 and renamed over the old one,
// so no reader ever sees a half-written file or a moment of wider permissions.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { removeDeadTemps, tempOf } from "../config/dead-temps.ts";
import { CboError } from "../kit/errors.ts";
import { TunnelRecordSchema, type TunnelRecord } from "./types.ts";

export type TunnelFiles = { dir: string; token: string; config: string; record: string };

export function tunnelFiles(dataDir: string): TunnelFiles {
  const dir = join(dataDir, "tunnel");
  return { dir, token: join(dir, "token"), config: join(dir, "cloudflared.yml"), record: join(dir, "tunnel.json") };
}

export function writePrivate(file: string, content: string, dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  removeDeadTemps(file);
  const tmp = tempOf(file);
  try {
    writeFileSync(tmp, content, { mode: 0o600, flag: "w" });
    chmodSync(tmp, 0o600); // the umask cannot widen it, but a leftover tmp file could be wider
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new CboError("ERR_IO", `Could not write ${file}: ${(e as Error).message}`, { cause: e });
  }
}

/** Removes the working copies a writer killed mid-way left (the token's may hold the token). */
export function removeLeftovers(files: TunnelFiles): void {
  for (const f of [files.token, files.config, files.record]) removeDeadTemps(f);
}

export function readRecord(files: TunnelFiles): TunnelRecord | null {
  if (!existsSync(files.record)) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(files.record, "utf8"));
  } catch (e) {
    throw new CboError("ERR_VALIDATION", `${files.record} is not valid JSON.`, {
      hint: "Restore it from a backup, or remove the tunnel folder and run `cbo tunnel create` again.",
      cause: e,
    });
  }
  const parsed = TunnelRecordSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CboError("ERR_VALIDATION", `${files.record}: ${issue?.path.join(".") || "(top)"}: ${issue?.message ?? "invalid"}.`, {
      hint: "Restore it from a backup, or remove the tunnel folder and run `cbo tunnel create` again.",
    });
  }
  return parsed.data;
}

export function readToken(files: TunnelFiles): string | null {
  return existsSync(files.token) ? readFileSync(files.token, "utf8").trim() || null : null;
}
