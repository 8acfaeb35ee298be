// A bounded set of recently accepted message keys, against replay. Each key carries its own expiry
// (the end of its message's tolerance window, not insertion time + window: a message stamped in
// the near future stays replayable for longer than one stamped in the past). Entries sit in
// one-second buckets by expiry, so expired ones are dropped a bucket at a time without scanning.
//
// When full of unexpired entries the cache refuses new keys ("full") instead of evicting: an
// evicted key could be replayed inside its window, and only correctly signed messages reach the
// cache, so filling it takes a key holder. Pure apart from the injected clock.
import { CboError } from "../errors.ts";

export type NonceCacheResult = "added" | "seen" | "full";

export type NonceCache = {
  /** Remembers `key` until `expiresAtMs` (rounded up to a whole second), unless it is already remembered or the cache is full. */
  checkAndAdd(key: string, expiresAtMs: number): NonceCacheResult;
  has(key: string): boolean;
  /** Unexpired entries held (expired ones are dropped first). */
  readonly size: number;
  readonly maxEntries: number;
};

export type NonceCacheOptions = {
  /** Upper bound on entries held; default 10,000. */
  maxEntries?: number;
  /** Milliseconds since the epoch; defaults to Date.now. */
  now?: () => number;
};

const BUCKET_MS = 1000;

export function createNonceCache(opts: NonceCacheOptions = {}): NonceCache {
  const maxEntries = opts.maxEntries ?? 10_000;
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
    throw new CboError("ERR_VALIDATION", "Nonce cache maxEntries must be a positive integer.");
  }
  const now = opts.now ?? Date.now;
  const expiries = new Map<string, number>();
  // bucket number -> keys expiring at bucket * BUCKET_MS
  const buckets = new Map<number, string[]>();
  let nextPurgeAt = Infinity;

  const purge = (at: number) => {
    if (at < nextPurgeAt) return;
    nextPurgeAt = Infinity;
    for (const [bucket, keys] of buckets) {
      if (bucket * BUCKET_MS > at) {
        nextPurgeAt = Math.min(nextPurgeAt, bucket * BUCKET_MS);
        continue;
      }
      for (const key of keys) if ((expiries.get(key) ?? Infinity) <= at) expiries.delete(key);
      buckets.delete(bucket);
    }
  };

  return {
    checkAndAdd(key, expiresAtMs) {
      if (!Number.isFinite(expiresAtMs)) throw new CboError("ERR_VALIDATION", "Nonce expiry must be a finite time.");
      const at = now();
      purge(at);
      const held = expiries.get(key);
      if (held !== undefined && held > at) return "seen";
      // Already outside its window: nothing could replay it, so there is nothing to remember.
      if (expiresAtMs <= at) return "added";
      if (expiries.size >= maxEntries) return "full";
      // Expiry rounded up to its bucket's end (never shorter, so never weaker): then purging a
      // due bucket is exact and no expired entry can take a slot.
      const bucket = Math.ceil(expiresAtMs / BUCKET_MS);
      expiries.set(key, bucket * BUCKET_MS);
      const keys = buckets.get(bucket);
      if (keys) keys.push(key);
      else buckets.set(bucket, [key]);
      nextPurgeAt = Math.min(nextPurgeAt, bucket * BUCKET_MS);
      return "added";
    },
    has(key) {
      const at = now();
      purge(at);
      return (expiries.get(key) ?? -Infinity) > at;
    },
    get size() {
      purge(now());
      return expiries.size;
    },
    maxEntries,
  };
}
