// The database side of `cbo audit verify`: the SQLite file opened read-only (nothing is migrated,
// nothing written, no lock held against the daemon), read inside one read transaction so that the
// stored checkpoints and the entries come from the same snapshot while the daemon keeps appending.
import { existsSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { auditSource, verifyAuditLog, type VerifyCheckpoint, type VerifyResult } from "../audit/index.ts";
import { CboError } from "../kit/errors.ts";

export type DatabaseVerification = { result: VerifyResult; stored: number; coveredBySignature: number };

function open(dbFile: string): DatabaseSync {
  if (!existsSync(dbFile)) {
    throw new CboError("ERR_NOT_FOUND", `There is no database at ${dbFile}.`, { hint: "point at it with --db FILE, or at the daemon's data directory with --data DIR" });
  }
  try {
    return new DatabaseSync(dbFile, { readOnly: true });
  } catch (e) {
    throw new CboError("ERR_IO", `Cannot open ${dbFile} read-only: ${(e as Error).message}`, { cause: e });
  }
}

function tables(db: DatabaseSync, dbFile: string): Set<string> {
  try {
    const rows = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('audit_entries', 'audit_checkpoints')").all() as Array<{ name: string }>;
    return new Set(rows.map((r) => r.name));
  } catch (e) {
    throw new CboError("ERR_VALIDATION", `${dbFile} is not a readable SQLite database: ${(e as Error).message}`, { cause: e });
  }
}

export async function verifyDatabase(opts: {
  dbFile: string;
  external: VerifyCheckpoint[];
  publicKey: Uint8Array | Record<string, Uint8Array> | undefined;
}): Promise<DatabaseVerification> {
  const db = open(opts.dbFile);
  try {
    const has = tables(db, opts.dbFile);
    // A database without the log is only evidence when checkpoints say there was one.
    if (!has.has("audit_entries") && opts.external.length === 0) {
      throw new CboError("ERR_NOT_FOUND", `${opts.dbFile} holds no audit log.`, { hint: "is this the orchestrator's database (<data>/orchestrator.sqlite)?" });
    }
    db.exec("BEGIN");
    try {
      const source = auditSource(db);
      const stored = has.has("audit_checkpoints") ? source.checkpoints() : [];
      const checkpoints = [...stored, ...opts.external];
      if (checkpoints.length > 0 && opts.publicKey === undefined) {
        throw new CboError("ERR_USAGE", "No public key to check the checkpoint signatures with.", {
          hint: "pass --public-key (the publicKey of GET /v1/keys/orchestrator, kept somewhere the VPS cannot change) or --key-url URL",
        });
      }
      // Without checkpoints no key is used; the verifier still wants one.
      const publicKey = opts.publicKey ?? new Uint8Array(32);
      const entries = has.has("audit_entries") ? source.entries() : [];
      const result = await verifyAuditLog({ entries, checkpoints, publicKey });
      const sizes = checkpoints.flatMap((c) => ("unreadable" in c ? [] : [c.tree_size]));
      return { result, stored: stored.length, coveredBySignature: result.ok ? Math.max(0, ...sizes) : 0 };
    } finally {
      db.exec("ROLLBACK");
    }
  } finally {
    db.close();
  }
}
