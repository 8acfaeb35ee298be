// The database side of `cbo audit verify`: the SQLite file opened read-only (nothing is migrated,
// nothing written, no lock held against the daemon), read inside one read transaction so that the
// stored checkpoints and the entries come from the same snapshot while the daemon keeps appending.
// (A large log is read by several connections at once; verify-parallel.ts makes sure they all read
// that one snapshot, or reads the checkpoints again in a newer one.)
import { existsSync, statSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { auditSource, verifyAuditLog, type VerifyCheckpoint, type VerifyResult } from "../../audit/index.ts";
import { verifyStoredLog, type StoredVerifyOptions } from "../../audit/index.ts";
import { CboError } from "../../kit/errors.ts";
import { NEWER_STORE_HINT, refuseNewerSchema, STORE_SCHEMA_VERSION, storedSchemaVersion } from "../../store/schema-version.ts";

export type DatabaseVerification = {
  result: VerifyResult;
  stored: number;
  coveredBySignature: number;
  /** Whether the parallel pass proved the log intact, or the sequential verifier gave the answer. */
  path: "parallel" | "sequential";
};

function open(dbFile: string): DatabaseSync {
  if (!existsSync(dbFile)) {
    throw new CboError("ERR_NOT_FOUND", `There is no database at ${dbFile}.`, {
      hint: "point at it with --db FILE, or at the daemon's data directory with --data DIR",
    });
  }
  // A FIFO would hold SQLite's open until something wrote to it; a directory is not a database either.
  const st = statSync(dbFile);
  if (!st.isFile()) {
    throw new CboError("ERR_VALIDATION", `${dbFile} is ${st.isDirectory() ? "a directory" : "not a regular file"}, not a database.`, {
      hint: "point at it with --db FILE, or at the daemon's data directory with --data DIR",
    });
  }
  try {
    return new DatabaseSync(dbFile, { readOnly: true });
  } catch (e) {
    throw new CboError("ERR_IO", `Cannot open ${dbFile} read-only: ${(e as Error).message}`, { cause: e });
  }
}

function tables(db: DatabaseSync, dbFile: string): Set<string> {
  try {
    const rows = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('audit_entries', 'audit_checkpoints')")
      .all() as Array<{ name: string }>;
    return new Set(rows.map((r) => r.name));
  } catch (e) {
    throw new CboError("ERR_VALIDATION", `${dbFile} is not a readable SQLite database: ${(e as Error).message}`, { cause: e });
  }
}

export async function verifyDatabase(opts: {
  dbFile: string;
  external: VerifyCheckpoint[];
  publicKey: Uint8Array | Record<string, Uint8Array> | undefined;
  /** Tuning of the parallel pass (tests, benchmarks); see verify-stored.ts. */
  parallel?: StoredVerifyOptions["parallel"];
}): Promise<DatabaseVerification> {
  const db = open(opts.dbFile);
  try {
    const has = tables(db, opts.dbFile);
    // A newer build may hash or sign its entries otherwise: verified with this build's rules, an
    // intact log could read as tampered. Refused like every other offline command (README, "Upgrades").
    refuseNewerSchema(storedSchemaVersion(db), STORE_SCHEMA_VERSION, { path: opts.dbFile, label: opts.dbFile, hint: NEWER_STORE_HINT });
    // A database without the log is only evidence when checkpoints say there was one.
    if (!has.has("audit_entries") && opts.external.length === 0) {
      throw new CboError("ERR_NOT_FOUND", `${opts.dbFile} holds no audit log.`, {
        hint: "is this the orchestrator's database (<data>/orchestrator.sqlite)?",
      });
    }
    db.exec("BEGIN");
    try {
      const readStored = () => (has.has("audit_checkpoints") ? auditSource(db).checkpoints() : []);
      const stored = readStored();
      const needKey = (n: number) => {
        if (n > 0 && opts.publicKey === undefined) {
          throw new CboError("ERR_USAGE", "No public key to check the checkpoint signatures with.", {
            hint: "pass --public-key (the publicKey of GET /v1/keys/orchestrator, kept somewhere the VPS cannot change) or --key-url URL",
          });
        }
      };
      needKey(stored.length + opts.external.length);
      // Without checkpoints no key is used; the verifier still wants one.
      const publicKey = opts.publicKey ?? new Uint8Array(32);
      const run = has.has("audit_entries")
        ? await verifyStoredLog(db, {
            stored,
            readStored,
            external: opts.external,
            publicKey,
            ...(opts.parallel ? { parallel: opts.parallel } : {}),
          })
        : {
            result: await verifyAuditLog({ entries: [], checkpoints: [...stored, ...opts.external], publicKey }),
            path: "sequential" as const,
            stored,
          };
      // The parallel pass may have read the log again, in a newer snapshot with more checkpoints.
      needKey(run.stored.length + opts.external.length);
      const sizes = [...run.stored, ...opts.external].flatMap((c) => ("unreadable" in c ? [] : [c.tree_size]));
      return {
        result: run.result,
        path: run.path,
        stored: run.stored.length,
        coveredBySignature: run.result.ok ? Math.max(0, ...sizes) : 0,
      };
    } finally {
      if (db.isTransaction) db.exec("ROLLBACK");
    }
  } finally {
    db.close();
  }
}
