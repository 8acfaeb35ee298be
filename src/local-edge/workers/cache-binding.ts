// The Cache API (`caches.default`, `caches.open(name)`) for loaded Workers. workerd gives a Worker
// Loader's Workers no cache ("No Cache was configured"), so the env shim replaces `caches` in a
// Worker whose code names it (env-shim/cache.ts) with one that calls this entrypoint, which keeps
// the entries in the region router's own cache: one region, one account, so one cache, shared by
// the account's Workers as a zone's Workers share theirs. Expiry, `cf-cache-status` and what may
// be stored follow the runtime's own cache.
import { WorkerEntrypoint } from "cloudflare:workers";

const open = (name: string) => caches.open(`cbo-cache:${name}`);

export class CacheBinding extends WorkerEntrypoint {
  async match(name: string, request: Request, options?: CacheQueryOptions): Promise<Response | undefined> {
    return (await open(name)).match(request, options);
  }
  async put(name: string, request: Request, response: Response): Promise<void> {
    await (await open(name)).put(request, response);
  }
  async delete(name: string, request: Request, options?: CacheQueryOptions): Promise<boolean> {
    return (await open(name)).delete(request, options);
  }
}
