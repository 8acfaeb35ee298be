// Storage of a key-value-backed Durable Object class (migrations `new_classes`). Its objects run as
// facets, to which workerd always gives SQLite storage, so every SQLite-only API works there unless
// taken away. At Cloudflare such an object has none of them; the wrapper (do-alarms.ts) makes each
// throw what workerd throws for a storage back-end without SQLite (src/workerd/api/actor-state.c++
// and src/workerd/io/actor-cache.h in cloudflare/workerd):
//
//   sql, kv                      getSqliteDb()/getSqliteKv(): an Error on first touch of the property
//   transactionSync()            "Durable Object is not backed by SQL." thrown at the call
//   getCurrentBookmark(),        ActorCacheInterface's defaults: "does not implement point-in-time
//   getBookmarkForTime(),        recovery"; these return promises, so the Error is a rejection from
//   onNextSessionRestoreBookmark() compatibility date 2022-10-31 (capture_async_api_throws), thrown
//   waitForBookmark() (experimental) at the call before it, as JSG does for every async API.

/** workerd's words when a class without SQLite storage touches `ctx.storage.sql` (as at Cloudflare). */
export const SQL_NOT_ENABLED =
  "SQL is not enabled for this Durable Object class. To enable it, change `new_classes` to `new_sqlite_classes` within the 'migrations' field in your wrangler.jsonc or wrangler.toml file. If using workerd directly,set `enableSql = true` in your workerd config for the class. Note that this change cannot be made after the class is already deployed to production.";
/** workerd's words for `ctx.storage.kv` (the synchronous KV API) in such a class. */
export const KV_NOT_ENABLED =
  "The storage.kv (synchronous KV) API is only available for SQLite-backed Durable Objects, but this object's namespace is not declared to use SQLite. You can use the older, asyncronous interface via methods of `storage` itself (e.g. `storage.get()`). Alternatively, to enable SQLite, change `new_classes` to `new_sqlite_classes` within the 'migrations' field in your wrangler.jsonc or wrangler.toml file. If using workerd directly, set `enableSql = true` in your workerd config for the class. Note that this change cannot be made after the class is already deployed to production.";
/** workerd's words for `transactionSync()` on a storage back-end without SQLite. */
export const NOT_BACKED_BY_SQL = "Durable Object is not backed by SQL.";
/** workerd's words for the point-in-time recovery (bookmark) calls on such a back-end. */
export const NO_PITR = "This Durable Object's storage back-end does not implement point-in-time recovery.";

/** workerd's captureThrowsAsRejections (compatibility-date.capnp): an async API rejects instead of throwing. */
export function capturesAsyncThrows(compatibilityDate: string, compatibilityFlags: readonly string[]): boolean {
  if (compatibilityFlags.includes("capture_async_api_throws")) return true;
  if (compatibilityFlags.includes("do_not_capture_async_api_throws")) return false;
  return compatibilityDate >= "2022-10-31";
}

/**
 * The source of `__cbo_kvBacked(storage, rejects)`, which takes the SQLite-only APIs away from a
 * facet's storage; appended to the loaded Worker's main module with the alarm wrapper.
 */
export const KV_BACKED_SOURCE = `
function __cbo_kvBacked(storage, rejects) {
  const refuse = (message) => ({ configurable: true, get() { throw new Error(message); } });
  Object.defineProperty(storage, "sql", refuse(${JSON.stringify(SQL_NOT_ENABLED)}));
  Object.defineProperty(storage, "kv", refuse(${JSON.stringify(KV_NOT_ENABLED)}));
  const method = (name, value) => Object.defineProperty(storage, name, { configurable: true, writable: true, value });
  method("transactionSync", () => { throw new Error(${JSON.stringify(NOT_BACKED_BY_SQL)}); });
  const pitr = rejects ? () => Promise.reject(new Error(${JSON.stringify(NO_PITR)})) : () => { throw new Error(${JSON.stringify(NO_PITR)}); };
  for (const name of ["getCurrentBookmark", "getBookmarkForTime", "onNextSessionRestoreBookmark", "waitForBookmark"])
    if (typeof storage[name] === "function") method(name, pitr);
}
`;
