// What the vault's operations share: the store connection, the current master key, the clock, the
// log and the event hook. Built once by createVault.
import type { Db } from "../store/db.ts";
import { CboError } from "../kit/errors.ts";
import type { VaultEvent } from "./events.ts";
import type { MasterKey } from "./master-key.ts";
import type { Rows, SecretRow } from "./rows.ts";
import type { Logger } from "../telemetry/index.ts";

export type VaultContext = {
  db: Db;
  rows: Rows;
  keepVersions: number;
  master(): MasterKey;
  setMaster(next: MasterKey): void;
  hashKey: Buffer;
  at(): string;
  log: Logger;
  /** Set by a write that removed ciphertext or keys, so that the WAL is flushed after it. */
  removed: boolean;
  /** Runs inside the write's transaction: if it throws, the write is rolled back. */
  emit(e: VaultEvent): void;
  /** Sees every value handed out (the daemon masks it in its logs from then on). */
  revealed?(value: Uint8Array): void;
};

export function notFound(tenant: string, name: string): CboError {
  return new CboError("ERR_NOT_FOUND", `secret ${name} does not exist${tenant === "default" ? "" : ` in tenant ${tenant}`}`, {
    details: { tenant, name },
  });
}

/** The secret, which must exist. */
export function mustExist(ctx: VaultContext, tenant: string, name: string): SecretRow {
  const s = ctx.rows.secret(tenant, name);
  if (s === undefined) throw notFound(tenant, name);
  return s;
}

/**
 * The check of check-and-set: `expected` is the current version the caller last saw (0: "it does
 * not exist yet"). Run inside the write's transaction, so no write can slip in between.
 */
export function checkCas(tenant: string, name: string, current: SecretRow | undefined, expected: number | undefined): void {
  const currentVersion = current?.current_version ?? 0;
  if (expected === undefined || expected === currentVersion) return;
  throw new CboError(
    "ERR_CONFLICT",
    expected === 0
      ? `secret ${name} already exists (current version ${currentVersion})`
      : `secret ${name} is at version ${currentVersion}, not ${expected}: it changed since you read it`,
    {
      details: { tenant, name, expected_version: expected, current_version: currentVersion },
      hint: "read the current version and retry with it as cas",
    },
  );
}

export function refuseDeleted(s: SecretRow | undefined): void {
  if (s?.deleted_at) {
    throw new CboError("ERR_CONFLICT", `secret ${s.name} is deleted; undelete it before changing it`, {
      details: { tenant: s.tenant, name: s.name, current_version: s.current_version, deleted_at: s.deleted_at },
    });
  }
}
