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

/** The body with details already in canonical JSON (as stored), saving a parse and re-encode. */
export function entryBodyWith(e: Omit<HashedFields, "details">, detailsJson: string): string {
  return (
    `{"action":${JSON.stringify(e.action)},"actor":${JSON.stringify(e.actor)},"at":${JSON.stringify(e.at)}` +
    `,"details":${detailsJson},"outcome":${JSON.stringify(e.outcome)},"prev_hash":${JSON.stringify(e.prev_hash)}` +
    `,"seq":${String(e.seq)},"target":${e.target === null ? "null" : JSON.stringify(e.target)}` +
    `,"tenant":${e.tenant === null ? "null" : JSON.stringify(e.tenant)}}`
  );
}

export function entryHash(e: HashedFields): string {
  return sha256Hex(entryBody(e));
}

export function sha256Hex(data: string | Uint8Array): string {
  return hash("sha256", data, "hex");
}
