// How the API and the daemon write to the audit log. Two ways to write:
//   record(): fail closed. Used where the change is refused when the entry cannot be written (it
//             runs inside the change's transaction, or before the change starts);
//   note():   best effort, logged on failure. Used for what has already happened and cannot be
//             undone by refusing: failed attempts, auth failures, the engine's lifecycle events.
// The vault's change events arrive through onVaultEvent inside the vault's own transaction, so a
// failing append rolls the change back. Secret values never get here: the vault reports a written
// value as its keyed hash only, and a value read through the API is recorded as its keyed hash.
// Refusals of requests anyone can send (a wrong token, an unsigned heartbeat) go through denied():
// grouped per source and counted past the first few, so the log records them without anyone
// being able to fill it (denials.ts).
import { AsyncLocalStorage } from "node:async_hooks";
import { CboError, isCboError, toCboError } from "../kit/errors.ts";
import type { AuditLog, NewAuditEntry } from "../audit/index.ts";
import type { StoredEvent } from "../store/index.ts";
import type { Vault, VaultEvent } from "../vault/index.ts";
import { createDenialLog, type DeniedEntry, type DenialOptions } from "./denials.ts";
import { DAEMON_ACTOR, ENGINE_ACTOR } from "./principal.ts";
import { currentTraceId, outsideTrace, type Logger } from "../telemetry/index.ts";

export type AuditTrail = ReturnType<typeof createAuditTrail>;

/**
 * What a client says it acts through, from its `x-cbo-via` header (`mcp:rollback`, `skill`): kept
 * as a `via` detail on the entries the request's own principal writes. It is the client's claim,
 * recorded for the reader and never used for access; anything not shaped like one is ignored.
 */
const VIA = /^[a-z][a-z0-9_-]{0,31}(?::[a-z][a-z0-9_.-]{0,63})?$/;
export function viaOf(header: string | undefined): string | undefined {
  return header !== undefined && VIA.test(header) ? header : undefined;
}
type RequestVia = { actor: string; via: string };

export function createAuditTrail(opts: { log: Logger; denials?: DenialOptions }) {
  let audit: AuditLog | undefined;
  // Before attach(): the daemon's own vault work at start (its signing key), appended on attach.
  const early: NewAuditEntry[] = [];
  let captureRead: ((e: Extract<VaultEvent, { type: "secret.read" }>) => void) | undefined;
  // The request being handled (within()): only its principal's entries get its `via`, not the
  // engine's, whose background work inherits the async context of the request that started it.
  const requests = new AsyncLocalStorage<RequestVia>();

  function record(entry: NewAuditEntry): void {
    const ctx = requests.getStore();
    if (ctx && entry.actor === ctx.actor) entry = { ...entry, details: { ...entry.details, via: ctx.via } };
    // The trace the change was made in (the request's, continued from the caller's traceparent, or
    // the release's): a hashed detail, so the verifier and the export keep it (audit/FORMAT.md).
    const traceId = currentTraceId();
    if (traceId !== undefined && entry.details?.trace_id === undefined)
      entry = { ...entry, details: { ...entry.details, trace_id: traceId } };
    if (audit) audit.append(entry);
    else early.push(entry);
  }

  function note(entry: NewAuditEntry): void {
    try {
      record(entry);
    } catch (e) {
      const err = toCboError(e);
      opts.log.error(`audit: could not record ${entry.action} (${entry.outcome}): ${err.code}: ${err.message}`);
    }
  }

  const denials = createDenialLog(note, opts.denials);
  // Summaries of counted denials are written when their window ends, even if no request comes.
  let sweep: NodeJS.Timeout | undefined;
  function denied(entry: DeniedEntry, source: string): void {
    denials.note(entry, source);
    if (!sweep && denials.pending() > 0) {
      // Outside the trace of the request that started it: the sweep outlives that request.
      sweep = outsideTrace(() =>
        setInterval(
          () => {
            denials.flushDue();
            if (denials.pending() === 0) {
              clearInterval(sweep);
              sweep = undefined;
            }
          },
          Math.max(10, Math.min(denials.windowMs, 10_000)),
        ),
      );
      sweep.unref();
    }
  }

  return {
    /** Connects the log; entries recorded before it are appended now (all or none). */
    attach(log: AuditLog): void {
      if (early.length > 0) log.appendMany(early.splice(0));
      audit = log;
    },
    record,
    note,
    /**
     * A refused request from `source` (`client:<address>`, or the actor of a valid token): best
     * effort like note(), written in full for the first few per source and action in a window,
     * then counted into one summary entry (denials.ts).
     */
    denied,
    /** Writes the summaries of every denial counted so far (before the last checkpoint). */
    flushDenials(): void {
      if (sweep) clearInterval(sweep);
      sweep = undefined;
      denials.flushAll();
    },
    /** Runs `fn` (a request's handling) so that entries written by `ctx.actor` carry `via: ctx.via`. */
    within<T>(ctx: RequestVia | undefined, fn: () => T): T {
      return ctx ? requests.run(ctx, fn) : fn();
    },

    /** The vault's onEvent hook: runs inside the vault's transaction; a throw refuses the change. */
    onVaultEvent(e: VaultEvent): void {
      if (e.type === "secret.read" && captureRead) return captureRead(e);
      record(vaultEntry(e));
    },

    /**
     * A secret read that hands the value to a caller: the entry carries the value's keyed hash, and
     * the value is wiped and withheld if the entry cannot be written.
     */
    readSecret(vault: Vault, name: string, o: { tenant: string; version?: number; actor: string }): { version: number; value: Uint8Array } {
      let seen: Extract<VaultEvent, { type: "secret.read" }> | undefined;
      captureRead = (e) => void (seen = e);
      let r: { version: number; value: Uint8Array };
      try {
        r = vault.get(name, { tenant: o.tenant, by: o.actor, ...(o.version === undefined ? {} : { version: o.version }) });
      } finally {
        captureRead = undefined;
      }
      try {
        if (!seen) throw new CboError("ERR_INTERNAL", "The vault returned a value without reporting the read.");
        const entry = vaultEntry(seen);
        record({ ...entry, details: { ...entry.details, valueHash: vault.keyedHash(r.value) } });
      } catch (e) {
        r.value.fill(0);
        throw e;
      }
      return r;
    },

    /** A refused or failed mutation (best effort): the error's code, never its details. */
    failed(action: string, actor: string, target: string | null, tenant: string, err: unknown): void {
      const code = isCboError(err) ? err.code : "ERR_INTERNAL";
      if (code === "ERR_AUDIT_UNAVAILABLE" || code === "ERR_DISK_FULL" || code === "ERR_STORE_CORRUPT") return; // it would fail the same way
      note({ actor, action, target, tenant, outcome: code === "ERR_FORBIDDEN" ? "denied" : "error", details: { code } });
    },

    /** The engine's lifecycle events (store.events): releases, steps, rollbacks, recovery. */
    onStoreEvent(e: StoredEvent): void {
      if (!AUDITED_EVENTS.some((p) => e.type.startsWith(p))) return;
      note(engineEntry(e));
    },
  };
}

type SecretEvent = Exclude<VaultEvent, { type: "vault.key_rotated" }>;
const VAULT_ACTIONS: Record<SecretEvent["type"], string> = {
  "secret.read": "secret.read",
  "secret.written": "secret.put",
  "secret.rolled_back": "secret.rollback",
  "secret.policy_changed": "secret.policy",
  "secret.deleted": "secret.delete",
  "secret.undeleted": "secret.undelete",
  "secret.destroyed": "secret.destroy",
};

/** A vault event as an audit entry: which secret, which version, a value only as its keyed hash. */
export function vaultEntry(e: VaultEvent): NewAuditEntry & { details: Record<string, string | number | string[] | number[]> } {
  if (e.type === "vault.key_rotated") {
    return {
      actor: e.by ?? DAEMON_ACTOR,
      action: "vault.key_rotate",
      target: "vault",
      outcome: "ok",
      details: { fromKeyId: e.from_key, toKeyId: e.to_key, rewrapped: e.rewrapped },
    };
  }
  const base = {
    actor: e.by ?? DAEMON_ACTOR,
    action: VAULT_ACTIONS[e.type],
    target: `secret:${e.name}`,
    tenant: e.tenant,
    outcome: "ok" as const,
  };
  switch (e.type) {
    case "secret.read":
      return { ...base, details: { version: e.version, purpose: e.purpose } };
    case "secret.written":
      return { ...base, details: { version: e.version, valueHash: e.value_hash, mode: e.mode, jurisdictions: e.jurisdictions } };
    case "secret.rolled_back":
      return { ...base, details: { version: e.version, fromVersion: e.from_version, valueHash: e.value_hash } };
    case "secret.policy_changed":
      return { ...base, details: { mode: e.mode, jurisdictions: e.jurisdictions } };
    case "secret.destroyed":
      return { ...base, details: { versions: e.versions, reason: e.reason } };
    case "secret.deleted":
    case "secret.undeleted":
      return { ...base, details: {} };
  }
}

// Scalar facts of an engine event worth keeping; the rest (plans, split tables) stays in the
// event log, which the entry points to by id.
const ENGINE_FIELDS = [
  "by",
  "reason",
  "status",
  "kind",
  "percent",
  "versionId",
  "previousVersionId",
  "bundleHash",
  "to",
  "recovered",
  "stage",
] as const;

/** Store events that go on the record as they happen (a publish is recorded by its route, fail closed). */
const AUDITED_EVENTS = ["release.", "rollback.", "drift.", "config.rejected", "config.write_failed", "config.resumed"];

export function engineEntry(e: StoredEvent): NewAuditEntry {
  const details: Record<string, string | number | boolean | null> = { eventId: e.id };
  if (e.worker) details.worker = e.worker;
  if (e.target) details.edgeTarget = e.target;
  for (const k of ENGINE_FIELDS) {
    const v = e.data[k];
    if (typeof v === "string") details[k] = v.slice(0, 500);
    else if (typeof v === "number" || typeof v === "boolean" || v === null) details[k] = v;
  }
  return {
    actor: ENGINE_ACTOR,
    action: e.type,
    target: e.release_id ? `release:${e.release_id}` : null,
    tenant: e.tenant,
    outcome: e.type.endsWith(".failed") ? "error" : "ok",
    details,
  };
}
