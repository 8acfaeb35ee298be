// The audit log: append-only, hash-chained entries with signed checkpoints.
//
// Fail closed: append() writes inside the caller's transaction when one is open on the connection
// (or appendIn(tx, …) on another connection), else in its own; any failure to write throws
// ERR_AUDIT_UNAVAILABLE, so the caller's transaction rolls back and the change is refused. The
// head is read from the database on every append (never cached), so a rolled-back caller cannot
// leave the log with a stale head. Entries are validated, and details guarded against secret
// values (details-guard.ts), before anything is written: that is ERR_VALIDATION.
import { CboError, isCboError } from "../kit/errors.ts";
import { transaction } from "../kit/transaction.ts";
import type { Db } from "../store/db.ts";
import type { Storage } from "../store/storage.ts";
import { classifyStorageError, DEFAULT_HEADROOM_BYTES } from "../store/storage-errors.ts";
import { createCheckpointer, guard } from "./checkpointer.ts";
import { checkpointsForVerify, latestCheckpointAt, listCheckpoints } from "./checkpoints-table.ts";
import { insertEntry, iterateRowArrays, readHead, toVerifyEntry } from "./entries-table.ts";
import { guardDetails, guardText } from "./details-guard.ts";
import { exportText, exportTo, type ExportOptions, type ExportToOptions } from "./export.ts";
import { entryBodyWith, sha256Hex } from "./hash.ts";
import {
  GENESIS_HASH,
  NewAuditEntrySchema,
  type AuditCheckpoint,
  type AuditEntry,
  type AuditSigner,
  type NewAuditEntry,
  type VerifyCheckpoint,
  type VerifyEntry,
} from "./schema.ts";
import { search, tail, type AuditSearch } from "./search.ts";
import { verifyAuditLog } from "./verify.ts";
import { type Logger, stderrLogger } from "../telemetry/index.ts";
import type { CboMetrics } from "../telemetry/index.ts";

export type AuditLogOptions = {
  /** The store's connection (store.db); migration 003 must have run (openDb does that). */
  db: Db;
  signer: AuditSigner;
  now?: () => number;
  checkpointEvery?: { entries?: number; ms?: number };
  /** How often the started timer looks for a due checkpoint; default min(1 s, every.ms). */
  pollMs?: number;
  /** After each new checkpoint, e.g. to ship it off the VPS with exportTo(url, { sinceTreeSize }). */
  onCheckpoint?: (cp: AuditCheckpoint) => void | Promise<void>;
  log?: Logger;
  /** The store's disk watch: names a full disk or a damaged file, and pauses checkpoints while the disk is full. */
  storage?: Pick<Storage, "classify" | "paused">;
  /** Counts appends and failed appends (GET /metrics). */
  metrics?: Pick<CboMetrics, "auditAppends" | "auditFailures">;
};

export function createAuditLog(opts: AuditLogOptions) {
  const { db, signer } = opts;
  const now = opts.now ?? Date.now;
  const every = { entries: opts.checkpointEvery?.entries ?? 1000, ms: opts.checkpointEvery?.ms ?? 60_000 };
  // Without the store's watch (tests, offline tools): the same naming, without the pause.
  const location = (() => {
    try {
      return db.location() ?? undefined;
    } catch {
      return undefined; // not open
    }
  })();
  const storage = opts.storage ?? {
    classify: (e: unknown) =>
      location === undefined ? e : (classifyStorageError(e, { path: location, neededBytes: DEFAULT_HEADROOM_BYTES }) ?? e),
    paused: () => false,
  };
  const checkpointer = createCheckpointer({
    db,
    signer,
    now,
    every,
    pollMs: opts.pollMs ?? Math.min(1000, every.ms),
    onCheckpoint: opts.onCheckpoint,
    storage,
    log: opts.log ?? stderrLogger(),
  });

  function validate(entry: NewAuditEntry) {
    const parsed = NewAuditEntrySchema.safeParse(entry);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
      throw new CboError(
        "ERR_VALIDATION",
        `Invalid audit entry: ${issues.map((i) => `${i.path || "(entry)"}: ${i.message}`).join("; ")}.`,
        { details: { issues } },
      );
    }
    const e = parsed.data;
    guardText(e.actor, "actor");
    guardText(e.target, "target");
    const details = e.details ?? {};
    const detailsJson = guardDetails(details);
    const fields = { actor: e.actor, action: e.action, target: e.target ?? null, tenant: e.tenant ?? null, outcome: e.outcome, details };
    return { entry: fields, detailsJson };
  }

  /**
   * Inserts the entries after the head on `conn`, which must be inside a transaction. The head is
   * read once: within the transaction nothing else can append, so each entry chains to the one
   * written before it.
   */
  function write(conn: Db, valid: Array<ReturnType<typeof validate>>): AuditEntry[] {
    const head = readHead(conn);
    let seq = head?.seq ?? 0;
    let prev = head?.hash ?? GENESIS_HASH;
    return valid.map(({ entry: e, detailsJson }) => {
      const fields = { seq: ++seq, at: new Date(now()).toISOString(), ...e, prev_hash: prev };
      const entry: AuditEntry = { ...fields, hash: sha256Hex(entryBodyWith(fields, detailsJson)) };
      insertEntry(conn, entry, detailsJson);
      prev = entry.hash;
      return entry;
    });
  }

  function run(conn: Db, inputs: NewAuditEntry[], requireTx: boolean): AuditEntry[] {
    const valid = inputs.map(validate);
    let out: AuditEntry[];
    try {
      const inTx = conn.isTransaction;
      if (requireTx && !inTx) throw new CboError("ERR_INTERNAL", "appendIn(tx) needs a transaction open on that connection.");
      out = inTx ? write(conn, valid) : transaction(conn, () => write(conn, valid));
    } catch (e) {
      opts.metrics?.auditFailures.inc();
      // A full disk or a damaged database is named as such: the operator's fix depends on it.
      const named = storage.classify(e);
      if (isCboError(named) && (named.code === "ERR_DISK_FULL" || named.code === "ERR_STORE_CORRUPT")) throw named;
      if (isCboError(e)) throw e;
      throw new CboError("ERR_AUDIT_UNAVAILABLE", "The audit log could not be written, so the change was refused.", {
        cause: e,
        hint: "Check the data directory (disk space, permissions); the change can be retried.",
      });
    }
    opts.metrics?.auditAppends.inc(out.length);
    const last = out.at(-1);
    if (last) checkpointer.noteAppended(last.seq, Date.parse(out[0]!.at));
    return out;
  }

  return {
    keyId: signer.keyId,
    publicKey: signer.publicKey,
    /** Appends one entry, inside the open transaction on `db` if there is one. */
    append: (entry: NewAuditEntry): AuditEntry => run(db, [entry], false)[0]!,
    /** Appends inside the caller's transaction on `tx` (which may be another connection). */
    appendIn: (tx: Db, entry: NewAuditEntry): AuditEntry => run(tx, [entry], true)[0]!,
    /** Several entries in one transaction (one commit): for bursts and group commit. */
    appendMany: (entries: NewAuditEntry[]): AuditEntry[] => run(db, entries, false),
    head: (): { seq: number; hash: string } => guard(() => readHead(db) ?? { seq: 0, hash: GENESIS_HASH }),
    tail: (n = 20): AuditEntry[] => guard(() => tail(db, n)),
    search: (q: AuditSearch): AuditEntry[] => guard(() => search(db, q)),
    checkpoint: checkpointer.checkpoint,
    maybeCheckpoint: checkpointer.maybeCheckpoint,
    checkpoints: (o: { sinceTreeSize?: number } = {}): AuditCheckpoint[] => guard(() => listCheckpoints(db, o)),
    /** When the newest signed checkpoint was made (undefined: none yet). */
    lastCheckpointAt: (): string | undefined => guard(() => latestCheckpointAt(db)),
    /** Starts the checkpoint timer. */
    start: checkpointer.start,
    /** Stops it; by default takes a last checkpoint over any uncovered entries. Call before db.close(). */
    stop: checkpointer.stop,
    /** JSON lines (export.ts); checkpoints only unless include: "all". */
    exportCheckpoints: (o: ExportOptions = {}): string => exportText(db, { now, ...o }),
    exportTo: (dest: string | URL, o: ExportToOptions = {}) => exportTo(db, dest, { now, ...o }),
    /** Verifies the stored log; pass checkpoints kept outside the VPS to check against those too. */
    verify: (
      o: { checkpoints?: VerifyCheckpoint[]; storedCheckpoints?: boolean; publicKey?: Uint8Array | Record<string, Uint8Array> } = {},
    ) => {
      const source = auditSource(db);
      const checkpoints = [...(o.storedCheckpoints === false ? [] : source.checkpoints()), ...(o.checkpoints ?? [])];
      return verifyAuditLog({ entries: source.entries(), checkpoints, publicKey: o.publicKey ?? signer.publicKey });
    },
  };
}
export type AuditLog = ReturnType<typeof createAuditLog>;

/** The stored log as verifier input, streamed: for `cbo audit verify` against a database file. */
export function auditSource(db: Db) {
  return {
    *entries(): Generator<VerifyEntry> {
      // From the lowest seq there is, so that a row planted below 1 is reported too.
      let position = 0;
      for (const row of iterateRowArrays(db, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)) yield toVerifyEntry(row, ++position);
    },
    checkpoints: (): VerifyCheckpoint[] => checkpointsForVerify(db),
  };
}
