// What Cloudflare's KV service refuses of a Worker's `put()`, as status and message; the binding
// (workers/kv-binding.ts) words it as workerd does: "KV PUT failed: <status> <message>". Checked in
// the order of Miniflare's KV service, which mirrors Cloudflare's: expiration, metadata, value.
import { LIMITS } from "./limits.ts";

const MIN_TTL = 60;

export type KvPutRefusal = { status: number; message: string };

export function kvPutRefusal(
  q: { expiration: string | null; expirationTtl: string | null; metadata: string | null },
  valueBytes: number,
  nowSec: number,
): KvPutRefusal | undefined {
  if (q.expirationTtl !== null) {
    const ttl = Number.parseInt(q.expirationTtl, 10);
    if (Number.isNaN(ttl) || ttl <= 0)
      return { status: 400, message: `Invalid expiration_ttl of ${q.expirationTtl}. Please specify integer greater than 0.` };
    if (ttl < MIN_TTL)
      return { status: 400, message: `Invalid expiration_ttl of ${q.expirationTtl}. Expiration TTL must be at least ${MIN_TTL}.` };
  } else if (q.expiration !== null) {
    const at = Number.parseInt(q.expiration, 10);
    if (Number.isNaN(at) || at <= nowSec)
      return {
        status: 400,
        message: `Invalid expiration of ${q.expiration}. Please specify integer greater than the current number of seconds since the UNIX epoch.`,
      };
    if (at < nowSec + MIN_TTL)
      return {
        status: 400,
        message: `Invalid expiration of ${q.expiration}. Expiration times must be at least ${MIN_TTL} seconds in the future.`,
      };
  }
  if (q.metadata !== null) {
    const n = new TextEncoder().encode(q.metadata).length;
    if (n > LIMITS.kv.metadataBytes)
      return { status: 413, message: `Metadata length of ${n} exceeds limit of ${LIMITS.kv.metadataBytes}.` };
  }
  if (valueBytes > LIMITS.kv.valueBytes)
    return { status: 413, message: `Value length of ${valueBytes} exceeds limit of ${LIMITS.kv.valueBytes}.` };
  return undefined;
}
