// `cbo restore <archive> --data DIR`: an archive onto an empty or new data directory, verified
// (integrity, master key, audit chain against the last signed checkpoint) before it is kept. The
// daemon started on DIR then reconciles with what the edge runs. Checkpoints kept off the VPS
// (--checkpoint) are checked as far as the archive reaches; those beyond it were signed after the
// backup, and the entries they cover are said to be missing from the archive, not held against it.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { passphraseKeyFor, readArchiveHeader, restoreBackup, type Header, type RestoreResult } from "../../backup/index.ts";
import type { VerifyCheckpoint } from "../../audit/index.ts";
import { readCheckpointFile } from "./audit-verify-inputs.ts";
import { CboError } from "../../kit/errors.ts";
import { base64urlToBytes } from "../../kit/signing/index.ts";
import { masterKeyFromFile, type MasterKey } from "../../vault/index.ts";
import { retiredKeyFile } from "../../vault/key-file-rotation.ts";
import { parse } from "../args.ts";
import { configuredMasterKey, masterKeyFile } from "../../security/master-key.ts";
import { cliMasterKey } from "./backup-command.ts";
import { printJsonLine } from "../output.ts";
import { usageOf } from "../usage/index.ts";
import { asInvoked } from "../invocation.ts";
import { offlineAdminTokenCommand } from "../admin-token-note.ts";

export const RESTORE_USAGE = usageOf("restore");

export async function restoreCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      data: { type: "string" },
      "master-key-file": { type: "string" },
      checkpoint: { type: "string", multiple: true },
      "public-key": { type: "string" },
    },
    RESTORE_USAGE,
  );
  if (values.help) {
    process.stdout.write(RESTORE_USAGE + "\n");
    return 0;
  }
  if (positionals.length !== 1)
    throw new CboError("ERR_USAGE", positionals.length === 0 ? "Missing <archive>." : `Unexpected argument "${positionals[1]}".`, {
      hint: RESTORE_USAGE,
    });
  // No default: a restore goes into a directory the operator names.
  if (values.data === undefined)
    throw new CboError("ERR_USAGE", "Missing --data DIR: the (empty or new) directory to restore into.", { hint: RESTORE_USAGE });
  const archive = resolve(positionals[0]!);
  const dataDir = resolve(values.data);
  const header = readArchiveHeader(archive);
  // No key at all: say which one opens this archive, and how to pass it (a new one never will).
  if (configuredMasterKey({ env: process.env, keyFile: values["master-key-file"] }).kind === "none") throw noKeyFor(archive, header);
  const given = cliMasterKey({ env: process.env, keyFile: values["master-key-file"], fromPassphrase: (p) => passphraseKeyFor(header, p) });
  const givenFile = masterKeyFile({ env: process.env, keyFile: values["master-key-file"] });
  const { masterKey, retired } = keyForArchive(given, header.master_key_id, givenFile);
  // Read as `cbo audit verify` reads it: every line that cannot be read is an unreadable checkpoint,
  // which fails the restore (a line damaged down to one field name was taken for an entry and
  // dropped unseen), but for a cut-off last line, an append interrupted by a kill or power loss,
  // which is left out with a warning (it failed every restore until the daemon ran again).
  const files = (values.checkpoint ?? []).map((f) => readCheckpointFile(resolve(f)));
  for (const f of files) if (f.cutOffLine !== undefined) process.stderr.write(`warning: ${cutOff(f.file, f.cutOffLine)}\n`);
  const checkpoints: VerifyCheckpoint[] = files.flatMap((f) => f.checkpoints);
  const result = await restoreBackup({
    archive,
    dataDir,
    masterKey,
    ...(checkpoints.length ? { checkpoints } : {}),
    ...(values["public-key"] ? { publicKey: publicKey(values["public-key"]) } : {}),
  });
  const cutOffLines = files.flatMap((f) => (f.cutOffLine !== undefined ? [{ file: f.file, line: f.cutOffLine }] : []));
  if (values.json)
    printJsonLine({ ...result, ...(retired ? { retiredKeyFile: retired } : {}), ...(cutOffLines.length ? { cutOffLines } : {}) });
  else {
    // The key file that opened it, named in the next steps so that they run as printed (a key
    // given as a value or passphrase is not repeated: "the master key as above").
    const keyFile = retired ?? (givenFile === undefined ? undefined : resolve(givenFile));
    process.stdout.write(asInvoked(describe(archive, result, retired, keyFile, checkpoints.length > 0)));
  }
  return 0;
}

const cutOff = (file: string, line: number) =>
  `${file}: line ${line} is cut off (no newline at its end: the daemon was stopped while writing it); left out`;

/**
 * An archive made before an online master-key rotation is sealed with the key that is now retired;
 * the rotation kept it beside the key file as <file>.retired-<key id>, where this finds it.
 */
function keyForArchive(given: MasterKey, archiveKeyId: string, keyFile: string | undefined): { masterKey: MasterKey; retired?: string } {
  if (given.id === archiveKeyId || keyFile === undefined) return { masterKey: given };
  const retired = retiredKeyFile(resolve(keyFile), archiveKeyId);
  if (!existsSync(retired)) return { masterKey: given };
  return { masterKey: masterKeyFromFile(retired), retired };
}

/** Restore without a master key: the archive's key id, and every way to pass that key. */
function noKeyFor(archive: string, header: Header): CboError {
  const id = header.master_key_id;
  return new CboError(
    "ERR_USAGE",
    `No master key given: ${archive} was sealed with master key ${id}, and only that key opens it (a new key never will).`,
    {
      details: { archiveKeyId: id, passphrase: header.kdf !== undefined },
      hint: [
        "pass the key it was sealed with: --master-key-file FILE (the key file, mode 0600) or CBO_MASTER_KEY_FILE=FILE, or CBO_MASTER_KEY=<the key, base64 or hex>",
        ...(header.kdf !== undefined ? ["or CBO_MASTER_PASSPHRASE=<the passphrase> (this vault's key came from one)"] : []),
        `if the key was rotated since, pass the current key file with --master-key-file: the old one is found beside it as <file>.retired-${id}`,
      ].join("; "),
    },
  );
}

function publicKey(b64url: string): Uint8Array {
  let raw: Uint8Array;
  try {
    raw = base64urlToBytes(b64url);
  } catch {
    throw new CboError("ERR_USAGE", "--public-key is not base64url.");
  }
  if (raw.length !== 32)
    throw new CboError("ERR_USAGE", `--public-key must be a raw 32-byte Ed25519 key (it decodes to ${raw.length} bytes).`, {
      hint: "GET /v1/keys/orchestrator gives it as publicKey",
    });
  return raw;
}

function describe(archive: string, r: RestoreResult, retired: string | undefined, keyFile: string | undefined, given: boolean): string {
  const withKey = keyFile === undefined ? "" : `CBO_MASTER_KEY_FILE=${keyFile} `;
  const a = r.audit;
  const later = a.afterArchive;
  const reached =
    a.externalCheckpoint === null
      ? "none of the given checkpoints is within the archive's log"
      : `the newest given checkpoint the archive reaches (tree size ${a.externalCheckpoint}) matches it`;
  const external = !given
    ? undefined
    : reached +
      (later
        ? `; ${later.entries} later entr${later.entries === 1 ? "y is" : "ies are"} not in this archive (${a.head.seq + 1}..${later.upTo}, under ${later.checkpoints} later checkpoint(s)): written after the backup, which is expected and not tampering`
        : "");
  const unfinished = r.releases.unfinished;
  return (
    [
      `restored ${archive} (made ${r.createdAt}) into ${r.dataDir}`,
      ...(retired ? [`  master key  ${r.masterKeyId} from ${retired}: the archive predates a master-key rotation`] : []),
      `  audit log   ${a.entries} entries verified against ${a.checkpoints} signed checkpoint(s), head ${a.head.seq} ${a.head.hash.slice(0, 16)}…` +
        (a.uncovered > 0 ? `; the last ${a.uncovered} are covered by the hash chain only (after the newest checkpoint)` : ""),
      ...(external ? [`  checkpoint  ${external}`] : []),
      ...(a.cutOffCheckpointLine !== undefined
        ? [`  warning     the archive's ${cutOff("audit checkpoint file", a.cutOffCheckpointLine)}; the daemon drops it at its start`]
        : []),
      `  releases    ${r.releases.total}` +
        (unfinished.length
          ? `; ${unfinished.length} unfinished (${unfinished.map((u) => `${u.worker} ${u.id} ${u.status}`).join(", ")}): the daemon resumes or rolls them back`
          : ""),
      `  secrets     ${r.secrets} (sealed with master key ${r.masterKeyId})`,
      `  tokens      API tokens restored as they were; the admin-token file is never in an archive: use an admin token you kept,`,
      `              or make one now (the master key as above): ${withKey}${offlineAdminTokenCommand(r.dataDir)}`,
      "next: start the daemon on it with the same master key; on start it reconciles with what the edge runs:",
      `  ${withKey || "CBO_MASTER_KEY_FILE=<key file> "}cbo daemon --data ${r.dataDir}    (or put ${keyFile ? "a copy of it" : "the key file"} at ${r.dataDir}/master.key, mode 0600, for cbo up)`,
      ...(retired ? ["  then rotate it (`cbo vault rotate-master-key`): the restored vault is sealed with a key that was retired"] : []),
    ].join("\n") + "\n"
  );
}
