// Durable Objects of loaded Worker versions, on workerd's Durable Object facets. The router
// defines one real Durable Object class, DoHost, with one object per (namespace, object id). Each
// host runs the user's class as a facet: `ctx.facets.get(name, () => ({ class }))` with the class
// taken from the version's Worker Loader stub. The facet has its own SQLite storage, kept by the
// host (and so by Miniflare's persistence under the edge's data dir) across restarts. When the
// object's version changes (a deployment), the host aborts the facet and starts it again with the
// new class: the object keeps its storage and runs the new code, as at Cloudflare.
//
// Loaded Workers reach their objects through DoGateway (an RPC entrypoint handed to them in place
// of the namespace binding; see env-shim/durable-objects.ts), which picks the object's version from the live
// deployment and forwards fetch() and RPC calls to the host.
import { DurableObject, WorkerEntrypoint } from "cloudflare:workers";
import { versionForObject, type Entry } from "./routing.ts";

type Table = { scripts: Record<string, Entry[]>; namespaces?: Record<string, { script: string; class: string }> };
type Env = {
  LOADER: { get(id: string, load: () => Promise<unknown>): { getDurableObjectClass(name: string): unknown } };
  DO_HOST: DurableObjectNamespace;
};
type Target = { versionId: string; className: string; objectId: string };
type Hooks = { table(env: unknown): Promise<Table>; loadVersion(env: unknown, ctx: unknown, versionId: string): Promise<unknown> };

let hooks: Hooks | undefined;
/** The router hands over its routing table and version loader (kept there, so no import cycle). */
export function configureDurableObjects(h: Hooks): void {
  hooks = h;
}

const FACET = "object";

export class DoHost extends DurableObject<Env> {
  #running: string | undefined;

  #facet(t: Target): Fetcher {
    const key = `${t.versionId}\0${t.className}`;
    if (this.#running !== undefined && this.#running !== key) {
      this.ctx.facets.abort(FACET, new Error("Durable Object reset because its code was updated."));
    }
    this.#running = key;
    return this.ctx.facets.get(FACET, () => ({
      id: t.objectId,
      class: this.env.LOADER.get(t.versionId, () => hooks!.loadVersion(this.env, this.ctx, t.versionId)).getDurableObjectClass(
        t.className,
      ) as DurableObjectClass,
    }));
  }

  async fetchObject(t: Target, request: Request): Promise<Response> {
    return this.#facet(t).fetch(request);
  }

  async callObject(t: Target, method: string, args: unknown[]): Promise<unknown> {
    const facet = this.#facet(t) as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    return facet[method]!(...args);
  }
}

type HostStub = { fetchObject(t: Target, r: Request): Promise<Response>; callObject(t: Target, m: string, a: unknown[]): Promise<unknown> };

export class DoGateway extends WorkerEntrypoint<Env> {
  async #target(ns: string, objectId: string): Promise<{ host: HostStub; target: Target }> {
    const table = await hooks!.table(this.env);
    const n = table.namespaces?.[ns];
    if (!n)
      throw new Error(`Durable Object namespace ${ns} no longer exists: its class was deleted by a migration, or its Worker was deleted.`);
    const entries = table.scripts[n.script];
    if (!entries || entries.length === 0)
      throw new Error(`Worker ${n.script}, which implements Durable Object class ${n.class}, is not deployed in this region.`);
    const host = this.env.DO_HOST.get(this.env.DO_HOST.idFromName(`${ns}:${objectId}`)) as unknown as HostStub;
    return { host, target: { versionId: versionForObject(entries, objectId), className: n.class, objectId } };
  }

  async fetchObject(ns: string, objectId: string, request: Request): Promise<Response> {
    const { host, target } = await this.#target(ns, objectId);
    return host.fetchObject(target, request);
  }

  async callObject(ns: string, objectId: string, method: string, args: unknown[]): Promise<unknown> {
    const { host, target } = await this.#target(ns, objectId);
    return host.callObject(target, method, args);
  }
}
