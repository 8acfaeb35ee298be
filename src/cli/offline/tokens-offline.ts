// `cbo tokens create --offline --data DIR`: a token minted in the data directory itself, with the
// daemon stopped. The way back in when no admin token is at hand: a data directory restored from a
// backup (the admin-token file is never in an archive), or a lost <data>/admin-token. It opens the
// data directory as the daemon does (openSecurity, so it needs the vault's master key: holding it
// is what entitles one to a new admin token), writes the token and its audit entry in one
// transaction, and signs a last checkpoint before it closes. Refused while a daemon runs on DIR:
// use `cbo tokens create` through it then.
import { existsSync, writeFileSync, chmodSync } from "node:fs";
import { join, resolve } from "node:path";
import { CHECKPOINTS_FILE, DB_FILE, passphraseKeyForDatabase } from "../../backup/index.ts";
import { CreateTokenBodySchema, ROLES, type Role } from "../../contract/index.ts";
import { CboError } from "../../kit/errors.ts";
import { transaction } from "../../kit/transaction.ts";
import { openSecurity } from "../../security/index.ts";
import { silentLogger } from "../../telemetry/index.ts";
import { createTokenStore } from "../../store/tokens.ts";
import { openDb } from "../../store/db.ts";
import { parse } from "../args.ts";
import { DEFAULT_DATA_DIR } from "../discover.ts";
import { expiresFlag } from "../durations.ts";
import { liveDaemon } from "../live-daemon.ts";
import { printJsonLine } from "../output.ts";
import { positionals } from "../subcommand.ts";
import { usageOf } from "../usage/index.ts";
import { cliMasterKey } from "./backup-command.ts";
import { cliActor } from "./vault-rotate-offline.ts";

const USAGE = usageOf("tokens", "create");

export async function tokensOffline(args: string[]): Promise<number> {
  const { values, positionals: given } = parse(
    args,
    {
      offline: { type: "boolean" },
      data: { type: "string" },
      name: { type: "string" },
      role: { type: "string" },
      tenant: { type: "string" },
      expires: { type: "string" },
      "master-key-file": { type: "string" },
    },
    USAGE,
  );
  const [sub, ...rest] = given;
  if (sub !== "create")
    throw new CboError("ERR_USAGE", "--offline is for `cbo tokens create` only: list and revoke go through the daemon.", { hint: USAGE });
  positionals(rest, [], USAGE);
  if (!values.name)
    throw new CboError("ERR_USAGE", "Missing --name: what the token is for (it appears in the audit log).", { hint: USAGE });
  // The API's rule for a name (one line, not blank, not a token): offline makes the same row.
  const named = CreateTokenBodySchema.shape.name.safeParse(values.name);
  if (!named.success)
    throw new CboError("ERR_USAGE", `--name ${named.error.issues[0]?.message ?? "is not a valid token name"}.`, { hint: USAGE });
  if (!values.role || !(ROLES as readonly string[]).includes(values.role))
    throw new CboError("ERR_USAGE", `--role is one of ${ROLES.join(", ")}.`, { hint: USAGE });
  const role = values.role as Role;
  const expiresAt = values.expires === undefined ? null : expiresFlag(values.expires);
  const dataDir = resolve(values.data ?? DEFAULT_DATA_DIR);
  const dbFile = join(dataDir, DB_FILE);
  if (!existsSync(dbFile))
    throw new CboError("ERR_NOT_FOUND", `There is no orchestrator database at ${dbFile}.`, {
      hint: "Pass the daemon's data directory with --data (the one `cbo restore` wrote, say).",
    });
  const running = await liveDaemon({ data: dataDir });
  if (running) {
    throw new CboError("ERR_CONFLICT", `A daemon runs on ${dataDir} (${running.url}): it holds the audit log.`, {
      hint: "create the token through it (`cbo tokens create` with an admin token), or stop it first",
    });
  }
  const masterKey = cliMasterKey({
    env: process.env,
    keyFile: values["master-key-file"],
    fallbackKeyFile: join(dataDir, "master.key"),
    fromPassphrase: (p) => passphraseKeyForDatabase(dbFile, p),
  });
  const by = cliActor();
  const db = openDb(dbFile);
  let made: { token: string; id: string; name: string; role: Role; tenant: string | null; expiresAt: string | null };
  try {
    const sec = await openSecurity({ db, masterKey, checkpointExport: join(dataDir, CHECKPOINTS_FILE), log: silentLogger });
    try {
      const tokens = createTokenStore(db);
      made = transaction(db, () => {
        const { token, row } = tokens.create({ name: named.data, role, tenant: values.tenant ?? null, expiresAt });
        sec.trail.record({
          actor: by,
          action: "token.create",
          target: `token:${row.id}`,
          outcome: "ok",
          details: { name: row.name, role: row.role, scope: row.tenant, expiresAt: row.expires_at, offline: true },
        });
        return { token, id: row.id, name: row.name, role: row.role, tenant: row.tenant, expiresAt: row.expires_at };
      });
    } finally {
      // The last signed checkpoint covers the new entry, as a daemon's stop would.
      await sec
        .stop()
        .catch((e: unknown) => process.stderr.write(`cbo: the last audit checkpoint could not be signed: ${(e as Error).message}\n`));
    }
  } finally {
    db.close();
  }
  // The file the CLI and `cbo up` read the admin token from, when there is none: a restored data
  // directory works at once. An existing file is never replaced (it may hold a token still in use).
  const adminTokenFile = join(dataDir, "admin-token");
  const wroteFile = role === "admin" && !existsSync(adminTokenFile);
  if (wroteFile) {
    writeFileSync(adminTokenFile, made.token + "\n", { mode: 0o600, flag: "wx" });
    chmodSync(adminTokenFile, 0o600);
  }
  if (values.json) {
    printJsonLine({ ...made, offline: true, ...(wroteFile ? { adminTokenFile } : {}) });
    return 0;
  }
  process.stdout.write(made.token + "\n");
  process.stderr.write(
    `created token ${made.id} "${made.name}" (role ${made.role}) offline in ${dataDir}, on the audit record as token.create by ${by}; ` +
      (wroteFile
        ? `also written to ${adminTokenFile} (0600), where the CLI and cbo up find it\n`
        : "it is shown only this once: store it now\n"),
  );
  return 0;
}
