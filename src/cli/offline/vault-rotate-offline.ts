// `cbo vault rotate-master-key --data DIR (--new-key-file F | --offline)`: the rotation with the
// daemon stopped, for a master key the daemon cannot rewrite (CBO_MASTER_KEY, a passphrase) or by
// choice. It opens the data directory as the daemon does (openSecurity: vault, signing key, audit
// log), so the re-wrap and its audit entry commit together, and it signs a last checkpoint before
// it closes. Refused while a daemon runs on DIR: that daemon would go on holding the retired key.
import { existsSync, rmSync } from "node:fs";
import { userInfo } from "node:os";
import { join, resolve } from "node:path";
import { openSecurity } from "../../security/index.ts";
import { masterKeyFile } from "../../security/master-key.ts";
import { CHECKPOINTS_FILE, DB_FILE, passphraseKeyForDatabase } from "../../backup/index.ts";
import { CboError } from "../../kit/errors.ts";
import { openDb } from "../../store/db.ts";
import { generateKeyFile, masterKeyFromFile, type MasterKey } from "../../vault/index.ts";
import { rotateKeyFile } from "../../vault/key-file-rotation.ts";
import { cliMasterKey } from "./backup-command.ts";
import type { CliIo } from "../cli-io.ts";
import { DEFAULT_DATA_DIR } from "../discover.ts";
import { liveDaemon } from "../live-daemon.ts";
import { writeJson } from "../subcommand.ts";
import { VAULT_USAGE } from "../vault-usage.ts";
import { silentLogger } from "../../telemetry/index.ts";
import { asInvoked } from "../invocation.ts";

type Flags = {
  data?: string | undefined;
  "new-key-file"?: string | undefined;
  offline?: boolean | undefined;
  "master-key-file"?: string | undefined;
  json?: boolean | undefined;
};

type Outcome = { fromKeyId: string; toKeyId: string; rewrapped: number } & (
  | { keyFile: string; retiredKeyFile: string }
  | { newKeyFile: string; created: boolean }
);

/** Who acted, for the audit entry of an offline tool: the CLI and the OS user running it. */
export const cliActor = () => {
  let user = "unknown";
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (containers): the actor still says it was the CLI, offline
  }
  return `cli:${user}`;
};

export async function rotateOffline(values: Flags, io: CliIo): Promise<number> {
  if (values["new-key-file"] !== undefined && values.offline) {
    throw new CboError("ERR_USAGE", "--new-key-file re-wraps under another key file; --offline swaps the key file in place. Use one.", {
      hint: VAULT_USAGE,
    });
  }
  const dataDir = resolve(values.data ?? DEFAULT_DATA_DIR);
  const dbFile = join(dataDir, DB_FILE);
  if (!existsSync(dbFile))
    throw new CboError("ERR_NOT_FOUND", `There is no orchestrator database at ${dbFile}.`, {
      hint: "Pass the daemon's data directory with --data.",
    });
  const running = await liveDaemon({ data: dataDir });
  if (running) {
    throw new CboError(
      "ERR_CONFLICT",
      `A daemon runs on ${dataDir} (${running.url}); rotating under it would leave it holding a retired key.`,
      {
        hint: "rotate online with `cbo vault rotate-master-key` (its key must come from a key file), or stop the daemon first",
      },
    );
  }
  const env = process.env;
  const fallback = join(dataDir, "master.key");
  const keyFile = masterKeyFile({
    env,
    keyFile: values["master-key-file"],
    ...(existsSync(fallback) ? { fallbackKeyFile: fallback } : {}),
  });
  const current = cliMasterKey({
    env,
    keyFile: values["master-key-file"],
    fallbackKeyFile: fallback,
    fromPassphrase: (p) => passphraseKeyForDatabase(dbFile, p),
  });
  if (values.offline && (current.source !== "file" || keyFile === undefined)) {
    throw new CboError("ERR_USAGE", "--offline swaps a key file in place, and this master key does not come from one.", {
      hint: "use --new-key-file F: the vault is re-wrapped under the key in F",
    });
  }

  const by = cliActor();
  const db = openDb(dbFile);
  let outcome: Outcome;
  try {
    const sec = await openSecurity({ db, masterKey: current, checkpointExport: join(dataDir, CHECKPOINTS_FILE), log: silentLogger });
    try {
      outcome = values.offline
        ? swapInPlace(resolve(keyFile!), sec.vault, db, by)
        : rewrapUnder(resolve(values["new-key-file"]!), sec.vault, by);
      sec.trail.note({
        actor: by,
        action: "vault.rotate_master_key",
        target: "vault",
        outcome: "ok",
        details: { ...outcome, offline: true },
      });
    } finally {
      // The last signed checkpoint covers the rotation, as a daemon's stop would.
      await sec
        .stop()
        .catch((e: unknown) => io.stderr.write(`cbo: the last audit checkpoint could not be signed: ${(e as Error).message}\n`));
    }
  } finally {
    db.close();
  }
  if (values.json) writeJson(io, outcome);
  else io.stdout.write(asInvoked(describe(outcome, dataDir)));
  return 0;
}

type Vault = Awaited<ReturnType<typeof openSecurity>>["vault"];

function swapInPlace(file: string, vault: Vault, db: ReturnType<typeof openDb>, by: string): Outcome {
  const r = rotateKeyFile({
    file,
    db,
    currentKeyId: vault.keyId,
    rotate: (next) => vault.rotateMasterKey(next, { by }),
    log: silentLogger,
  });
  return { fromKeyId: r.from_key, toKeyId: r.to_key, rewrapped: r.rewrapped, keyFile: r.keyFile, retiredKeyFile: r.retiredKeyFile };
}

function rewrapUnder(file: string, vault: Vault, by: string): Outcome {
  const created = !existsSync(file);
  const next: MasterKey = created ? generateKeyFile(file) : masterKeyFromFile(file);
  try {
    const r = vault.rotateMasterKey(next, { by });
    return { fromKeyId: r.from_key, toKeyId: r.to_key, rewrapped: r.rewrapped, newKeyFile: file, created };
  } catch (e) {
    if (created) rmSync(file, { force: true }); // the transaction rolled back: nothing is sealed with it
    throw e;
  }
}

function describe(o: Outcome, dataDir: string): string {
  const head = `master key rotated offline: ${o.fromKeyId} -> ${o.toKeyId}; ${o.rewrapped} data key(s) re-wrapped, no value re-encrypted (on the audit record as vault.key_rotate)`;
  if ("keyFile" in o) {
    return (
      [
        head,
        `  key file     ${o.keyFile} (now key ${o.toKeyId})`,
        `  retired key  ${o.retiredKeyFile}: keep it while you keep backups made before now (they restore with it)`,
      ].join("\n") + "\n"
    );
  }
  return (
    [
      head,
      `  new key      ${o.newKeyFile}${o.created ? " (created, mode 0600)" : ""}`,
      `  the old key no longer opens the vault; keep it while you keep backups made before now (they restore with it)`,
      `next: start the daemon on the new key, with the old source unset: CBO_MASTER_KEY_FILE=${o.newKeyFile} cbo daemon --data ${dataDir}`,
    ].join("\n") + "\n"
  );
}
