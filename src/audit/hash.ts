// The hash chain. An entry's hash is
//
//   hex(SHA-256(UTF-8(canonicalJson({ action, actor, at, details, outcome, prev_hash, seq, target, tenant }))))
//
// i.e. every stored field except `hash` itself, absent target/tenant as null, details as {} when
// none; prev_hash is the previous entry's hash (GENESIS_HASH for seq 1). seq is inside the hash, so
// an entry cannot be moved to another position without its hash changing.
// node:crypto's one-shot hash rather than WebCrypto: digest() is async and costs an await per entry,
// and the verifier has to get through a million entries in about a second.
import { hash } from "node:crypto";
import { canonicalJson } from "./canonical.ts";
import type { AuditEntry } from "./schema.ts";

export type HashedFields = Omit<AuditEntry, "hash">;

/** The exact text that is hashed (same as canonicalJson of the fields; written out for speed). */
export function entryBody(e: HashedFields): string {
  return entryBodyWith(e, canonicalJson(e.details));
}

// JSON.stringify writes a string as `"…"` unchanged unless it holds a quote, a backslash, a control
// character or a lone surrogate. Testing for those is much cheaper than the calls, and the verifier
// writes a million bodies: when no field needs escaping (nearly always) the body is one template;
// anything the test flags (any surrogate, paired or not) goes through JSON.stringify. Either way
// the text is byte-for-byte what canonicalJson writes (hash.test.ts tries every UTF-16 code unit).
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** The body with details already in canonical JSON (as stored), saving a parse and re-encode. */
export function entryBodyWith(e: Omit<HashedFields, "details">, detailsJson: string): string {
  return entryBodyOf(e.action, e.actor, e.at, detailsJson, e.outcome, e.prev_hash, e.seq, e.target, e.tenant);
}

/** entryBodyWith with the fields as arguments, in the body's (alphabetical) order: no object per entry. */
export function entryBodyOf(
  action: string,
  actor: string,
  at: string,
  detailsJson: string,
  outcome: string,
  prevHash: string,
  seq: number,
  target: string | null,
  tenant: string | null,
): string {
  if (
    NEEDS_ESCAPE.test(action) ||
    NEEDS_ESCAPE.test(actor) ||
    NEEDS_ESCAPE.test(at) ||
    NEEDS_ESCAPE.test(outcome) ||
    NEEDS_ESCAPE.test(prevHash) ||
    (target !== null && NEEDS_ESCAPE.test(target)) ||
    (tenant !== null && NEEDS_ESCAPE.test(tenant))
  ) {
    const q = JSON.stringify;
    return (
      `{"action":${q(action)},"actor":${q(actor)},"at":${q(at)},"details":${detailsJson},"outcome":${q(outcome)},"prev_hash":${q(prevHash)}` +
      `,"seq":${String(seq)},"target":${target === null ? "null" : q(target)},"tenant":${tenant === null ? "null" : q(tenant)}}`
    );
  }
  return (
    `{"action":"${action}","actor":"${actor}","at":"${at}","details":${detailsJson},"outcome":"${outcome}","prev_hash":"${prevHash}"` +
    `,"seq":${String(seq)},"target":${target === null ? "null" : `"${target}"`},"tenant":${tenant === null ? "null" : `"${tenant}"`}}`
  );
}

export function entryHash(e: HashedFields): string {
  return sha256Hex(entryBody(e));
}

export function sha256Hex(data: string | Uint8Array): string {
  return hash("sha256", data, "hex");
}
