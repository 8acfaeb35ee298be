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
//
// Alarms: workerd lets no facet set one, so each object's alarm lives on its host (do-alarms.ts).
import { DurableObject, WorkerEntrypoint } from "cloudflare:workers";
import { versionForObject, type Entry } from "./routing.ts";
import { RUN_ALARM, WRAPPED_PREFIX } from "./do-alarms.ts";
import { DO_ID_HEADER, DO_NS_HEADER } from "./env-shim/durable-objects.ts";
import { CONNECTED, hopAddress, hopOf, splice } from "./env-shim/do-connect.ts";

/** The object a request through DoGateway is for, from the gateway to its host. */
const TARGET_HEADER = "cf-cbo-do-target";

/** `request` without the headers the edge added on its way. */
function withoutEdgeHeaders(request: Request): Request {
  const headers = new Headers(request.headers);
  for (const h of [DO_NS_HEADER, DO_ID_HEADER, TARGET_HEADER]) headers.delete(h);
  return new Request(request, { headers });
}

type Table = { scripts: Record<string, Entry[]>; namespaces?: Record<string, { script: string; class: string; sqlite?: boolean }> };
type Env = {
  LOADER: { get(id: string, load: () => Promise<unknown>): { getDurableObjectClass(name: string): unknown } };
  DO_HOST: DurableObjectNamespace;
};
type Target = { versionId: string; className: string; objectId: string };
/** Whose alarm a host keeps: the object it hosts. */
type AlarmOwner = { ns: string; objectId: string };
const ALARM_OWNER = "cbo:alarm-owner";
const IDENT = /^[A-Za-z_$][\w$]*$/;
type Hooks = { table(env: unknown): Promise<Table>; loadVersion(env: unknown, ctx: unknown, versionId: string): Promise<unknown> };

let hooks: Hooks | undefined;
/** The router hands over its routing table and version loader (kept there, so no import cycle). */
export function configureDurableObjects(h: Hooks): void {
  hooks = h;
}

const FACET = "object";

/** The host of object `objectId` in namespace `ns`, and the version the live deployment serves it. */
async function targetOf(env: Env, ns: string, objectId: string): Promise<{ host: HostStub; target: Target }> {
  const table = await hooks!.table(env);
  const n = table.namespaces?.[ns];
  if (!n)
    throw new Error(`Durable Object namespace ${ns} no longer exists: its class was deleted by a migration, or its Worker was deleted.`);
  const entries = table.scripts[n.script];
  if (!entries || entries.length === 0)
    throw new Error(`Worker ${n.script}, which implements Durable Object class ${n.class}, is not deployed in this region.`);
  const host = env.DO_HOST.get(env.DO_HOST.idFromName(`${ns}:${objectId}`)) as unknown as HostStub;
  return { host, target: { versionId: versionForObject(entries, objectId), className: n.class, objectId } };
}

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
      // The class as loaded with its alarm methods patched (do-alarms.ts).
      class: this.env.LOADER.get(t.versionId, () => hooks!.loadVersion(this.env, this.ctx, t.versionId)).getDurableObjectClass(
        IDENT.test(t.className) ? `${WRAPPED_PREFIX}${t.className}` : t.className,
      ) as DurableObjectClass,
    }));
  }

  /** A request DoGateway forwards (a fetch, so that a WebSocket answer gets through). */
  override async fetch(request: Request): Promise<Response> {
    const t = JSON.parse(request.headers.get(TARGET_HEADER) ?? "null") as Target | null;
    if (!t) return new Response("Durable Object host: no target", { status: 400 });
    return this.#facet(t).fetch(withoutEdgeHeaders(request));
  }

  /** A stub's connect(), from DoGateway: to the object's connect(socket) handler (do-connect.ts). */
  override async connect(socket: Socket): Promise<void> {
    const hop = hopOf((await socket.opened).localAddress);
    if (!hop) throw new Error("Durable Object host: a connect() with no object named");
    const { target } = await targetOf(this.env, hop.ns, hop.id);
    const inner = this.#facet(target).connect(hop.address);
    // An object without a connect() handler fails here, and so the caller's socket (do-connect.ts).
    await inner.opened;
    const writer = socket.writable.getWriter();
    await writer.write(new Uint8Array([CONNECTED]));
    writer.releaseLock();
    await splice(socket, inner);
  }

  async callObject(t: Target, method: string, args: unknown[]): Promise<unknown> {
    const facet = this.#facet(t) as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    return facet[method]!(...args);
  }

  async setObjectAlarm(owner: AlarmOwner, at: number): Promise<void> {
    if (!Number.isFinite(at)) throw new TypeError("setAlarm() needs a time: a Date or milliseconds since the epoch.");
    await this.ctx.storage.put(ALARM_OWNER, owner);
    await this.ctx.storage.setAlarm(at);
  }

  async getObjectAlarm(): Promise<number | null> {
    return this.ctx.storage.getAlarm();
  }

  async deleteObjectAlarm(): Promise<void> {
    await this.ctx.storage.deleteAlarm();
  }

  /**
   * The object's alarm: its alarm() runs on the version serving it now; a throw makes workerd retry.
   * Both fates are written to the region's log, since no caller sees them.
   */
  override async alarm(info?: AlarmInvocationInfo): Promise<void> {
    const owner = await this.ctx.storage.get<AlarmOwner>(ALARM_OWNER);
    if (!owner) return;
    // A class a migration deleted has no objects to run: its alarm is dropped, not retried
    // (unconfirmed at Cloudflare, where the objects' storage goes with the class).
    if (!(await hooks!.table(this.env)).namespaces?.[owner.ns]) {
      await this.ctx.storage.delete(ALARM_OWNER);
      console.warn(`Durable Object alarm of object ${owner.objectId} dropped: its namespace ${owner.ns} was deleted by a migration.`);
      return;
    }
    try {
      const { target } = await targetOf(this.env, owner.ns, owner.objectId);
      const facet = this.#facet(target) as unknown as Record<string, (info: { retryCount: number; isRetry: boolean }) => Promise<unknown>>;
      // workerd's AlarmInvocationInfo cannot cross RPC: its fields as a plain object.
      await facet[RUN_ALARM]!({ retryCount: info?.retryCount ?? 0, isRetry: info?.isRetry ?? false });
    } catch (e) {
      console.error(
        `Durable Object alarm of object ${owner.objectId} in namespace ${owner.ns} failed (retry ${info?.retryCount ?? 0}, retried with backoff): ${e instanceof Error ? e.message : String(e)}`,
      );
      throw e;
    }
  }
}

/** The alarm calls of one script's objects (do-alarms.ts): by class name, to the object's host. */
export class DoAlarms extends WorkerEntrypoint<Env, { script: string }> {
  async #host(className: string, objectId: string): Promise<{ host: HostStub; owner: AlarmOwner }> {
    const table = await hooks!.table(this.env);
    const ns = Object.entries(table.namespaces ?? {}).find(([, n]) => n.script === this.ctx.props.script && n.class === className)?.[0];
    if (!ns) throw new Error(`Durable Object class ${className} of Worker ${this.ctx.props.script} has no namespace in this account.`);
    return { host: this.env.DO_HOST.get(this.env.DO_HOST.idFromName(`${ns}:${objectId}`)) as unknown as HostStub, owner: { ns, objectId } };
  }

  async set(className: string, objectId: string, at: number): Promise<void> {
    const { host, owner } = await this.#host(className, objectId);
    await host.setObjectAlarm(owner, at);
  }

  async get(className: string, objectId: string): Promise<number | null> {
    return (await this.#host(className, objectId)).host.getObjectAlarm();
  }

  async delete(className: string, objectId: string): Promise<void> {
    await (await this.#host(className, objectId)).host.deleteObjectAlarm();
  }
}

type HostStub = {
  fetch(r: Request): Promise<Response>;
  connect(address: string): Socket;
  callObject(t: Target, m: string, a: unknown[]): Promise<unknown>;
  setObjectAlarm(owner: AlarmOwner, at: number): Promise<void>;
  getObjectAlarm(): Promise<number | null>;
  deleteObjectAlarm(): Promise<void>;
};

export class DoGateway extends WorkerEntrypoint<Env> {
  #target(ns: string, objectId: string): Promise<{ host: HostStub; target: Target }> {
    return targetOf(this.env, ns, objectId);
  }

  /** A stub's fetch(): the object is named by the shim's headers. */
  override async fetch(request: Request): Promise<Response> {
    const ns = request.headers.get(DO_NS_HEADER);
    const objectId = request.headers.get(DO_ID_HEADER);
    if (!ns || !objectId) return new Response("Durable Object gateway: no object named", { status: 400 });
    const { host, target } = await this.#target(ns, objectId);
    const headers = new Headers(request.headers);
    headers.set(TARGET_HEADER, JSON.stringify(target));
    return host.fetch(new Request(request, { headers }));
  }

  async callObject(ns: string, objectId: string, method: string, args: unknown[]): Promise<unknown> {
    const { host, target } = await this.#target(ns, objectId);
    return host.callObject(target, method, args);
  }

  /** A stub's connect(): the object and the caller's address are in the address (do-connect.ts). */
  override async connect(socket: Socket): Promise<void> {
    const hop = hopOf((await socket.opened).localAddress);
    if (!hop) throw new Error("Durable Object gateway: a connect() with no object named");
    const { host } = await this.#target(hop.ns, hop.id);
    await splice(socket, host.connect(hopAddress(hop)));
  }
}
