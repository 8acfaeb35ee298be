// The vault, the orchestrator's signing key and the audit log, opened together over the store's
// connection and wired to each other. Order matters: the vault opens first (its events are held
// until the log exists), the signing key comes out of the vault, the log signs with it, and its
// checkpoints are shipped out as they are signed. The daemon opens this once; tests open it over a
// store of their own.
import { createAuditLog, type AuditLog, type VerifyResult } from "../audit/index.ts";
import type { CryptoKey } from "../kit/signing/index.ts";
import type { Db } from "../store/db.ts";
import type { Storage, Store } from "../store/index.ts";
import { createVault, type MasterKey, type Vault } from "../vault/index.ts";
import { createWorkerKeys, type WorkerKeys } from "../vault/worker-keys.ts";
import { createAuditTrail, type AuditTrail } from "./audit-trail.ts";
import type { DenialOptions } from "./denials.ts";
import { createCheckpointExport, type CheckpointExport } from "./checkpoint-export.ts";
import { loadOrchestratorKey, type OrchestratorKeyInfo } from "./orchestrator-key.ts";
import { type Logger, stderrLogger } from "../telemetry/index.ts";
import type { CboMetrics, Redactor } from "../telemetry/index.ts";

export type SecurityOptions = {
  db: Db;
  /** The store's disk watch: a full disk is named and pauses checkpoints (store/storage.ts). */
  storage?: Pick<Storage, "classify" | "paused">;
  masterKey: MasterKey;
  /** Where checkpoints are shipped: a file (appended) or an http(s) URL (POSTed); none when absent. */
  checkpointExport?: string;
  checkpointEvery?: { entries?: number; ms?: number };
  keepVersions?: number;
  log?: Logger;
  fetch?: typeof fetch;
  /** How refused requests are grouped and counted in the log (denials.ts); defaults otherwise. */
  denials?: DenialOptions;
  /** Audit appends and vault reads are counted here (GET /metrics). */
  metrics?: CboMetrics;
  /** Every value the vault hands out is masked in log lines from then on. */
  redactor?: Redactor;
};

export type Security = {
  vault: Vault;
  /** Per-Worker keys (kept in the vault). */
  workerKeys: WorkerKeys;
  audit: AuditLog;
  trail: AuditTrail;
  orchestratorKey: OrchestratorKeyInfo;
  /** Its private half, for signing config bundles (non-extractable). */
  signingKey: CryptoKey;
  checkpointExport: CheckpointExport | undefined;
  /** The log against its own checkpoints and the shipped ones (the file's, when a file). */
  verify(): Promise<VerifyResult>;
  /** Feeds the engine's lifecycle events (store.events) into the log; returns the unsubscribe. */
  followEngine(events: Store["events"]): () => void;
  /** Starts the checkpoint timer. */
  start(): void;
  /** Stops it and signs a last checkpoint over what is not yet covered. Call before closing the store. */
  stop(opts?: { checkpoint?: boolean }): Promise<void>;
};

export async function openSecurity(opts: SecurityOptions): Promise<Security> {
  const log = opts.log ?? stderrLogger();
  const trail = createAuditTrail({ log, ...(opts.denials ? { denials: opts.denials } : {}) });
  const vault = createVault({
    db: opts.db,
    masterKey: opts.masterKey,
    log,
    onEvent: (e) => {
      trail.onVaultEvent(e);
      // Counted once its audit entry is written (a read that cannot be recorded is refused).
      if (e.type === "secret.read") opts.metrics?.vaultReads.inc({ purpose: e.purpose });
    },
    ...(opts.redactor ? { onValue: (v: Uint8Array) => opts.redactor!.register(v) } : {}),
    ...(opts.keepVersions ? { keepVersions: opts.keepVersions } : {}),
  });
  const key = await loadOrchestratorKey(vault);
  let audit: AuditLog | undefined;
  const shipping = opts.checkpointExport
    ? createCheckpointExport({ dest: opts.checkpointExport, audit: () => audit, ...(opts.fetch ? { fetch: opts.fetch } : {}) })
    : undefined;
  audit = createAuditLog({
    db: opts.db,
    signer: key.signer,
    log,
    ...(opts.metrics ? { metrics: opts.metrics } : {}),
    ...(opts.storage ? { storage: opts.storage } : {}),
    ...(opts.checkpointEvery ? { checkpointEvery: opts.checkpointEvery } : {}),
    ...(shipping ? { onCheckpoint: (cp) => shipping.onCheckpoint(cp) } : {}),
  });
  trail.attach(audit);
  shipping?.catchUp(audit);
  const log_ = audit;
  return {
    vault,
    workerKeys: createWorkerKeys(opts.db, vault),
    audit: log_,
    trail,
    orchestratorKey: key.info,
    signingKey: key.pair.privateKey,
    checkpointExport: shipping,
    verify: () => log_.verify({ checkpoints: shipping?.read() ?? [] }),
    followEngine: (events) => events.subscribe((e) => trail.onStoreEvent(e)),
    start: () => log_.start(),
    stop: (o) => {
      // The counted refusals go on the record before the last checkpoint covers it.
      trail.flushDenials();
      return log_.stop(o);
    },
  };
}
