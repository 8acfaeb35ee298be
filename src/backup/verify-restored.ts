// Checks a restored data directory before it is kept: the SQLite file is sound, the master key
// opens its vault, and the audit chain verifies against every signed checkpoint it reaches (the
// database's own, the restored checkpoint file's, and those the operator kept elsewhere; these may
// go on beyond the archive, which is expected after a backup and reported as such). Reads only: every
// statement runs in a transaction that is rolled back, so the restored file stays byte for byte
// what was backed up. Also gathers what the daemon will reconcile with the edge when it starts.
import { existsSync, readFileSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { auditSource, parseAuditExport, verifyAuditLog, type VerifyCheckpoint, type VerifyResult } from "../audit/index.ts";
import { checkSignatures } from "../audit/verify.ts";
import { CboError, isCboError } from "../kit/errors.ts";
import { base64urlToBytes, exportEd25519PublicKey, importEd25519KeyPair } from "../kit/signing/index.ts";
import { createReleaseStore } from "../store/releases.ts";
import { refuseNewerSchema, STORE_SCHEMA_VERSION, storedSchemaVersion } from "../store/schema-version.ts";
import { createVault, type MasterKey, type Vault } from "../vault/index.ts";
import { integrity } from "./errors.ts";

/** Where the daemon keeps the orchestrator's Ed25519 key (src/security/orchestrator-key.ts). */
const SIGNING_KEY = { name: "__orchestrator_signing_key", tenant: "default" } as const;

export type PublicKeys = Uint8Array | Record<string, Uint8Array>;

export type RestoredState = {
  audit: {
    entries: number;
    checkpoints: number;
    head: { seq: number; hash: string };
    uncovered: number;
    publicKeyFrom: "option" | "vault" | "none";
    /** Tree size of the newest checkpoint given from outside (`checkpoints`) that the archive reaches; it verified. */
    externalCheckpoint: number | null;
    /** Checkpoints given from outside beyond the archive's log: signed for entries written after the backup. */
    afterArchive: { checkpoints: number; entries: number; upTo: number } | null;
    /** The archive's checkpoint file ends in a cut-off line (an interrupted append), left out: its line number. */
    cutOffCheckpointLine?: number;
  };
  releases: { total: number; unfinished: Array<{ id: string; worker: string; status: string }> };
  /** Secrets in the vault, every tenant, the orchestrator's own key included. */
  secrets: number;
};

export async function verifyRestored(opts: {
  dbFile: string;
  checkpointsFile: string;
  masterKey: MasterKey;
  publicKey?: PublicKeys;
  checkpoints?: VerifyCheckpoint[];
}): Promise<RestoredState> {
  const db = new DatabaseSync(opts.dbFile);
  try {
    db.exec("BEGIN");
    try {
      const check = db.prepare("PRAGMA quick_check").all() as Array<Record<string, unknown>>;
      if (check.length !== 1 || Object.values(check[0]!)[0] !== "ok") throw integrity("holds a database that fails SQLite's quick_check");
      // An archive a newer cbo made: this build cannot vouch for (or later migrate) a schema it does not know.
      refuseNewerSchema(storedSchemaVersion(db), STORE_SCHEMA_VERSION, {
        path: opts.dbFile,
        label: "The backup's database",
        hint: "Restore it with the cbo that made it, or a newer one (git pull && npm install); nothing was restored. An older archive, made by this version or before, restores here.",
      });
      const vault = createVault({ db, masterKey: opts.masterKey }); // throws ERR_VAULT_INTEGRITY for a key that does not open it
      const fromVault = opts.publicKey ? undefined : await signingPublicKey(vault);
      const publicKey = opts.publicKey ?? fromVault;
      const source = auditSource(db);
      // The daemon appends to this file; a backup taken as it appended may end in a cut-off line,
      // which is left out (and reported) rather than failing the restore; the daemon drops it.
      const fromFile = existsSync(opts.checkpointsFile)
        ? parseAuditExport(readFileSync(opts.checkpointsFile, "utf8"), { appended: true })
        : undefined;
      const fileCheckpoints = fromFile?.checkpoints ?? [];
      // Checkpoints kept outside the VPS go on after the backup: the daemon signs more as it runs
      // (and one when it stops). Those the archive's log reaches must match it, or it was altered;
      // those beyond it are signed for entries written after the backup, which this archive cannot
      // hold. They are reported, not held against it; their signatures must still verify.
      const archived = Number((db.prepare("SELECT count(*) AS n FROM audit_entries").get() as { n: number }).n);
      const external = opts.checkpoints ?? [];
      const beyond = external.filter(
        (c): c is Exclude<VerifyCheckpoint, { unreadable: true }> => !("unreadable" in c) && c.tree_size > archived,
      );
      const reached = external.filter((c) => !beyond.includes(c as never));
      const checkpoints = distinct([...source.checkpoints(), ...fileCheckpoints, ...reached]);
      if ((checkpoints.length > 0 || beyond.length > 0) && publicKey === undefined) {
        throw new CboError(
          "ERR_VALIDATION",
          "The backup's audit log has signed checkpoints but no public key to check them with (the vault holds no orchestrator key).",
          {
            hint: "Pass the orchestrator's public key with --public-key (GET /v1/keys/orchestrator on the old daemon).",
          },
        );
      }
      const result = await verifyAuditLog({ entries: source.entries(), checkpoints, publicKey: publicKey ?? {} });
      if (!result.ok) throw auditFailure(result);
      const forged = (await checkSignatures({ checkpoints: beyond, publicKey: publicKey ?? {} })).find((c) => !c.sigOk);
      if (forged) {
        throw integrity(
          `is checked against a checkpoint file whose checkpoint at tree size ${forged.size} does not carry a valid signature`,
          { checkpoint: forged.size },
          "that checkpoint file was altered, or it belongs to another orchestrator (pass its key with --public-key); nothing was restored",
        );
      }
      const sizes = reached.flatMap((c) => ("unreadable" in c ? [] : [c.tree_size]));
      const externalCheckpoint = sizes.length > 0 ? Math.max(...sizes) : null;
      const upTo = Math.max(0, ...beyond.map((c) => c.tree_size));
      const covered = Math.max(0, ...checkpoints.filter((c) => !("unreadable" in c)).map((c) => (c as { tree_size: number }).tree_size));
      const releases = createReleaseStore(db);
      return {
        audit: {
          entries: result.checked,
          checkpoints: result.checkpoints,
          head: result.head,
          uncovered: result.head.seq - covered,
          publicKeyFrom: opts.publicKey ? "option" : fromVault ? "vault" : "none",
          externalCheckpoint,
          afterArchive: beyond.length > 0 ? { checkpoints: beyond.length, entries: upTo - result.head.seq, upTo } : null,
          ...(fromFile?.cutOffLine !== undefined ? { cutOffCheckpointLine: fromFile.cutOffLine } : {}),
        },
        releases: {
          total: Number((db.prepare("SELECT count(*) AS n FROM releases").get() as { n: number }).n),
          unfinished: releases.unfinished().map((r) => ({ id: r.id, worker: r.worker, status: r.status })),
        },
        secrets: Number((db.prepare("SELECT count(*) AS n FROM secrets").get() as { n: number }).n),
      };
    } finally {
      db.exec("ROLLBACK");
    }
  } finally {
    db.close();
  }
}

/** The same checkpoint from the database and a file counts once; unreadable ones all stay (evidence). */
function distinct(list: VerifyCheckpoint[]): VerifyCheckpoint[] {
  const seen = new Set<string>();
  return list.filter((c) => {
    if ("unreadable" in c) return true;
    const key = `${c.tree_size}:${c.signature}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
}

/** The raw public key of the orchestrator's signing key, if the vault holds one. */
async function signingPublicKey(vault: Vault): Promise<Uint8Array | undefined> {
  try {
    vault.info(SIGNING_KEY.name, { tenant: SIGNING_KEY.tenant });
  } catch (e) {
    if (isCboError(e) && e.code === "ERR_NOT_FOUND") return undefined;
    throw e;
  }
  const { value } = vault.get(SIGNING_KEY.name, { tenant: SIGNING_KEY.tenant, by: "cbo restore" });
  try {
    const pair = await importEd25519KeyPair(value);
    return base64urlToBytes(await exportEd25519PublicKey(pair.publicKey));
  } catch {
    throw integrity(`holds a ${SIGNING_KEY.name} that is not an Ed25519 private key`);
  } finally {
    value.fill(0);
  }
}

function auditFailure(r: VerifyResult): CboError {
  const bad = r.firstBad!;
  return integrity(
    `holds an audit log that does not verify: entry ${bad.seq}: ${bad.reason} (${bad.message})`,
    { firstBad: bad, checked: r.checked },
    "the log was altered before or inside this archive; nothing was restored. Use an earlier archive, or investigate with `cbo audit verify` on the original data directory",
  );
}
