// `cbo backup`: one encrypted archive of the data directory's state. With a daemon running on the
// data directory (its daemon.json answers), the daemon takes it (POST /v1/backups, admin), sealed
// with the master key it holds, and it is on the audit record as backup.create. With none running,
// the CLI takes it from the files itself (SQLite online backup) under the master key it is given,
// and says that this backup is not on the record: appending to the log is the daemon's job, and a
// process we cannot see (a daemon without its daemon.json) may hold the log open.
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { archiveName, createBackup, DB_FILE, DEFAULT_BACKUP_DIR, passphraseKeyForDatabase, pruneArchives } from "../../backup/index.ts";
import { CboError } from "../../kit/errors.ts";
import { configuredMasterKey, openMasterKey } from "../../security/master-key.ts";
import type { MasterKey } from "../../vault/index.ts";
import { intFlag, parse } from "../args.ts";
import { DEFAULT_DATA_DIR } from "../discover.ts";
import { liveDaemon } from "../live-daemon.ts";
import { printJsonLine } from "../output.ts";
import type { Backup } from "../../contract/index.ts";
import { cliClient } from "../connect.ts";
import { hinted } from "../subcommand.ts";
import { usageOf } from "../usage/index.ts";

export { MASTER_KEY_USAGE } from "../usage/index.ts";
export const BACKUP_USAGE = usageOf("backup");

/**
 * The master key from exactly one configured source (src/security/master-key.ts decides which):
 * CBO_MASTER_KEY, a key file (flag, then CBO_MASTER_KEY_FILE, then `fallbackKeyFile` if it
 * exists), or CBO_MASTER_PASSPHRASE (derived by `fromPassphrase`, which knows where the vault's
 * salt is). Two sources are a usage error.
 */
export function cliMasterKey(o: {
  env: Record<string, string | undefined>;
  keyFile: string | undefined;
  fallbackKeyFile?: string;
  fromPassphrase(passphrase: string): MasterKey;
}): MasterKey {
  const c = { env: o.env, keyFile: o.keyFile, fallbackKeyFile: o.fallbackKeyFile };
  const k = configuredMasterKey(c);
  // These tools open a vault that exists: only its own key does, so a new one is never suggested.
  if (k.kind === "none" || (k.kind === "file" && k.fallback && !existsSync(k.file))) {
    throw new CboError("ERR_USAGE", "No master key given: only the key the vault was sealed with opens it (a new key never will).", {
      hint: `pass it: --master-key-file FILE or CBO_MASTER_KEY_FILE=FILE (its key file, mode 0600), CBO_MASTER_KEY=<the key>, or CBO_MASTER_PASSPHRASE for a vault sealed from a passphrase${o.fallbackKeyFile ? ` (without one, ${o.fallbackKeyFile} is used when it exists)` : ""}`,
    });
  }
  return openMasterKey(c, { fromPassphrase: o.fromPassphrase });
}

export async function backupCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      out: { type: "string" },
      dir: { type: "string" },
      keep: { type: "string" },
      data: { type: "string" },
      "master-key-file": { type: "string" },
      url: { type: "string" },
      token: { type: "string" },
      "token-file": { type: "string" },
    },
    BACKUP_USAGE,
  );
  if (values.help) {
    process.stdout.write(BACKUP_USAGE + "\n");
    return 0;
  }
  if (positionals.length > 0) throw new CboError("ERR_USAGE", `Unexpected argument "${positionals[0]}".`, { hint: BACKUP_USAGE });
  if (values.out !== undefined && (values.dir !== undefined || values.keep !== undefined)) {
    throw new CboError("ERR_USAGE", "--out names one archive; --dir and --keep manage a directory of them. Use one or the other.", {
      hint: BACKUP_USAGE,
    });
  }
  const keep = intFlag(values.keep, "keep", 1, 10_000);
  const dataDir = resolve(values.data ?? DEFAULT_DATA_DIR);
  const daemon = await liveDaemon({ url: values.url, token: values.token, "token-file": values["token-file"], data: values.data });
  if (daemon) {
    if (values["master-key-file"] !== undefined)
      process.stderr.write("cbo: --master-key-file is not used: the running daemon seals the backup with the master key it holds\n");
    const client = cliClient({ url: daemon.url, token: daemon.token });
    const body = {
      ...(values.out !== undefined ? { out: resolve(values.out) } : {}),
      ...(values.dir !== undefined ? { dir: resolve(values.dir) } : {}),
      ...(keep !== undefined ? { keep } : {}),
    };
    const result = await hinted(client.createBackup(body), {
      ERR_FORBIDDEN: "a backup through the daemon needs an admin token (<data>/admin-token)",
    });
    if (values.json) printJsonLine({ ...result, audited: true, daemon: daemon.url });
    else process.stdout.write(describe(result, keep, `written by the daemon at ${daemon.url}; on the audit record as backup.create`));
    return 0;
  }
  const masterKey = cliMasterKey({
    env: process.env,
    keyFile: values["master-key-file"],
    fallbackKeyFile: join(dataDir, "master.key"),
    fromPassphrase: (p) => passphraseKeyForDatabase(join(dataDir, DB_FILE), p),
  });
  const dir = values.out === undefined ? resolve(values.dir ?? join(dataDir, DEFAULT_BACKUP_DIR)) : undefined;
  const out = values.out === undefined ? join(dir!, archiveName(new Date())) : resolve(values.out);

  const result = await createBackup({ dataDir, masterKey, out });
  const removed = dir !== undefined && keep !== undefined ? pruneArchives(dir, keep) : [];
  if (values.json) {
    printJsonLine({ ...result, removed, audited: false });
    return 0;
  }
  const unaudited = `not on the audit record: no daemon runs on ${dataDir} (a backup taken while it runs is recorded as backup.create)`;
  process.stdout.write(describe({ ...result, removed }, keep, unaudited));
  return 0;
}

function describe(result: Backup, keep: number | undefined, how: string): string {
  const lines = [
    `backup written: ${result.file} (${result.bytes} bytes)`,
    ...result.files.map((f) => `  ${f.name.padEnd(24)} ${f.bytes} bytes`),
    `  audit log: ${result.audit.entries} entries, ${result.audit.checkpoints} signed checkpoint(s)`,
    `  sealed with master key ${result.masterKeyId}: keep that key apart from the archive; without it nothing can be restored`,
    ...(result.removed.length > 0 ? [`  removed ${result.removed.length} older archive(s), keeping the ${keep} newest`] : []),
    `  ${how}`,
  ];
  return lines.join("\n") + "\n";
}
