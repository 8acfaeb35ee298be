// Signed checkpoints and their cadence. A checkpoint is due when the entries it would add reach
// `every.entries`, or when the oldest entry not yet under a checkpoint is `every.ms` old: so no
// entry stays unsigned for longer than that, and an idle log takes no checkpoints at all.
//
// Who triggers it: append() (a hint, run on the next turn of the event loop so that the caller's
// transaction has committed), and the owner's timer (start/stop), which also catches time passing
// with no appends. Checkpoints run one at a time; signing is async, so the snapshot is taken and
// the row written only while no transaction is open on the connection (never inside a caller's).
import { CboError, isCboError, toCboError } from "../kit/errors.ts";
import type { Db } from "../store/db.ts";
import type { Storage } from "../store/storage.ts";
import { checkpointBody, createSignatureChecker, toHex } from "./checkpoint-body.ts";
import { insertCheckpoint, maxCheckpointSize, checkpointAt } from "./checkpoints-table.ts";
import { entrySql, readHead } from "./entries-table.ts";
import type { AuditCheckpoint, AuditSigner } from "./schema.ts";
import { takeSnapshot } from "./snapshot.ts";
import type { Logger } from "../telemetry/index.ts";

export type CheckpointerOptions = {
  db: Db;
  signer: AuditSigner;
  now: () => number;
  every: { entries: number; ms: number };
  pollMs: number;
  onCheckpoint?: (cp: AuditCheckpoint) => void | Promise<void>;
  log: Logger;
  /** Names a full disk or a damaged file; while the disk is full, no checkpoint is due (none could be written). */
  storage: Pick<Storage, "classify" | "paused">;
};

export function createCheckpointer(o: CheckpointerOptions) {
  const selfCheck = createSignatureChecker(o.signer.publicKey);
  let queue: Promise<unknown> = Promise.resolve();
  let inflight: Promise<AuditCheckpoint | undefined> | undefined;
  let hinted = false;
  let timer: ReturnType<typeof setInterval> | undefined;
  // Hints only (a caller's transaction may roll back); isDue() re-reads the truth.
  let covered: number | undefined;
  let oldestUncoveredAt: number | undefined;

  /** A full disk or a damaged database named as such; anything else as it is. */
  const named = (e: unknown): unknown => {
    const n = o.storage.classify(e);
    return isCboError(n) && (n.code === "ERR_DISK_FULL" || n.code === "ERR_STORE_CORRUPT") ? n : e;
  };
  const report = (e: unknown) => {
    const err = toCboError(named(e));
    o.log.error(`audit: checkpoint failed: ${err.code}: ${err.message}`);
  };

  async function take(): Promise<AuditCheckpoint> {
    await whenNoTransaction(o.db);
    const snap = guard(() => takeSnapshot(o.db));
    if ("unchanged" in snap) return snap.unchanged;
    const fields = {
      tree_size: snap.treeSize,
      merkle_root: snap.merkleRoot,
      head_hash: snap.headHash,
      key_id: o.signer.keyId,
      at: new Date(o.now()).toISOString(),
    };
    let signature: Uint8Array;
    try {
      signature = await o.signer.sign(checkpointBody(fields));
    } catch (e) {
      throw new CboError("ERR_AUDIT_UNAVAILABLE", "The audit checkpoint could not be signed.", { cause: e });
    }
    const cp: AuditCheckpoint = { ...fields, signature: toHex(signature) };
    if (!(await selfCheck(cp)))
      throw new CboError("ERR_INTERNAL", "The audit signer's signature does not verify against its own public key.");
    await whenNoTransaction(o.db);
    const stored = guard(() => (insertCheckpoint(o.db, cp, snap.frontier), checkpointAt(o.db, cp.tree_size)));
    covered = cp.tree_size;
    oldestUncoveredAt = undefined;
    if (o.onCheckpoint) await Promise.resolve(o.onCheckpoint(stored ?? cp)).catch(report);
    return stored ?? cp;
  }

  /** A new checkpoint over everything committed; the last one when nothing was added since. */
  function checkpoint(): Promise<AuditCheckpoint> {
    const run = queue.then(take).catch((e: unknown) => {
      throw named(e);
    });
    queue = run.catch(() => undefined);
    return run;
  }

  function isDue(): boolean {
    return guard(() => {
      const last = maxCheckpointSize(o.db);
      covered = Math.max(last, 0);
      const head = readHead(o.db)?.seq ?? 0;
      if (head <= covered) return false;
      if (head - covered >= o.every.entries) return true;
      const at = Date.parse((entrySql(o.db).atOf.get(covered + 1) as { at: string } | undefined)?.at ?? "");
      oldestUncoveredAt = Number.isNaN(at) ? o.now() : at;
      return Number.isNaN(at) || o.now() - at >= o.every.ms;
    });
  }

  /** Takes a checkpoint if one is due; resolves undefined otherwise. */
  function maybeCheckpoint(): Promise<AuditCheckpoint | undefined> {
    if (inflight) return inflight;
    // Backs off while the disk is full: the storage watch says when there is room again.
    if (o.storage.paused()) return Promise.resolve(undefined);
    let due: boolean;
    try {
      due = isDue();
    } catch (e) {
      return Promise.reject(e);
    }
    if (!due) return Promise.resolve(undefined);
    const p = checkpoint().finally(() => {
      if (inflight === p) inflight = undefined;
    });
    inflight = p;
    return p;
  }

  /** Called after every append with the entry's seq and time. */
  function noteAppended(seq: number, atMs: number): void {
    if (covered !== undefined && oldestUncoveredAt === undefined) oldestUncoveredAt = atMs;
    const due = covered === undefined || seq - covered >= o.every.entries || o.now() - (oldestUncoveredAt ?? atMs) >= o.every.ms;
    if (!due || hinted) return;
    hinted = true;
    setImmediate(() => {
      hinted = false;
      maybeCheckpoint().catch(report);
    }).unref();
  }

  return {
    checkpoint,
    maybeCheckpoint,
    noteAppended,
    start(): void {
      if (timer) return;
      timer = setInterval(() => void maybeCheckpoint().catch(report), o.pollMs);
      timer.unref();
    },
    /** Stops the timer and, unless told not to, covers the remaining entries with a last checkpoint. */
    async stop(opts: { checkpoint?: boolean } = {}): Promise<void> {
      if (timer) clearInterval(timer);
      timer = undefined;
      await queue;
      if (opts.checkpoint === false) return;
      const head = guard(() => readHead(o.db)?.seq ?? 0);
      if (
        head >
        Math.max(
          guard(() => maxCheckpointSize(o.db)),
          0,
        )
      )
        await checkpoint();
    },
  };
}

/** Runs store work, turning any failure into ERR_AUDIT_UNAVAILABLE (CboErrors pass through). */
export function guard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (isCboError(e)) throw e;
    throw new CboError("ERR_AUDIT_UNAVAILABLE", "The audit log could not be read or written.", { cause: e });
  }
}

async function whenNoTransaction(db: Db): Promise<void> {
  // The store's transactions are synchronous, so this is normally free; it only waits for a
  // caller that keeps a transaction open across an await.
  for (let i = 0; guard(() => db.isTransaction); i++) {
    if (i >= 1000)
      throw new CboError(
        "ERR_AUDIT_UNAVAILABLE",
        "A transaction stayed open on the audit connection for over 5 s; no checkpoint was taken.",
      );
    await new Promise((r) => setTimeout(r, 5));
  }
}
