// The Cache API (`caches.default`, `caches.open(name)`) for loaded Workers. workerd gives a Worker
// Loader's Workers no cache ("No Cache was configured"), so the env shim replaces `caches` in a
// Worker whose code names it (env-shim/cache.ts) with one that calls this entrypoint, which keeps
// the entries in the region router's own cache: one region, one account, so one cache, shared by
// the account's Workers as a zone's Workers share theirs. Expiry, `cf-cache-status` and what may
// be stored follow the runtime's own cache.
import { WorkerEntrypoint } from "cloudflare:workers";

const open = (name: string) => caches.open(`cbo-cache:${name}`);

/**
 * Cloudflare's largest Cache API entry (Workers limits: "Cache API maximum object size", 512 MB).
 * A larger one is not stored and put() still resolves: Cloudflare's cache answers workerd's PUT
 * with 413 and workerd's Cache.put() ignores it (workerd src/workerd/api/cache.c++: "We expect to
 * see either 204 (success) or 413 (failure)"; the cache "never guaranteed" to store anything).
 */
export const MAX_ENTRY_BYTES = 512 * 1024 * 1024;

class EntryTooLarge extends Error {}

/** `response` whose body errors with EntryTooLarge once past MAX_ENTRY_BYTES. */
function capped(response: Response): Response {
  if (!response.body) return response;
  let seen = 0;
  const body = response.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > MAX_ENTRY_BYTES) controller.error(new EntryTooLarge());
        else controller.enqueue(chunk);
      },
    }),
  );
  return new Response(body, response);
}

export class CacheBinding extends WorkerEntrypoint {
  async match(name: string, request: Request, options?: CacheQueryOptions): Promise<Response | undefined> {
    return (await open(name)).match(request, options);
  }
  async put(name: string, request: Request, response: Response): Promise<void> {
    const declared = Number(response.headers.get("content-length") ?? Number.NaN);
    if (declared > MAX_ENTRY_BYTES) {
      await response.body?.cancel();
      return;
    }
    try {
      await (await open(name)).put(request, capped(response));
    } catch (e) {
      if (!(e instanceof EntryTooLarge)) throw e;
    }
  }
  async delete(name: string, request: Request, options?: CacheQueryOptions): Promise<boolean> {
    return (await open(name)).delete(request, options);
  }
}
