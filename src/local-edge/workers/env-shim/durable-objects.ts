// The Durable Object namespace binding inside a loaded Worker (env-shim): ids are computed here,
// synchronously, as at Cloudflare; stubs forward fetch() and RPC calls to the router's DoGateway,
// which runs the object as a facet of its host (workers/durable-objects.ts).
import { sha256Hex } from "./sha256.ts";
import type { ShimDescriptor } from "./descriptor.ts";
import { addressText, callerSocket, hopAddress } from "./do-connect.ts";

/** Which object a stub's fetch() is for, on its way through DoGateway (durable-objects.ts). */
export const DO_NS_HEADER = "cf-cbo-do-namespace";
export const DO_ID_HEADER = "cf-cbo-do-object";

type Gateway = {
  /** A fetch, not RPC: a Response carrying a WebSocket cannot cross RPC, and a Durable Object's often does. */
  fetch(request: Request): Promise<Response>;
  callObject(ns: string, id: string, method: string, args: unknown[]): Promise<unknown>;
  /** Delivered to DoGateway's connect(socket) handler (do-connect.ts). */
  connect(address: string, options?: unknown): Socket;
};
/** What the router puts under __CBO_SHIM for a durable_object_namespace binding. */
export type DurableObjectDescriptor = {
  kind: "durable_object_namespace";
  ns: string | null;
  className: string;
  script: string;
  gateway: Gateway;
};

// An id is 64 hex: 48 that name the object (a hash of the name, or random) and 16 that tie it to
// its namespace, so idFromString() refuses another namespace's id as Cloudflare does.
const mac = (ns: string, body: string) => sha256Hex(`cbo-do-id\0${ns}\0${body}`).slice(0, 16);

class DurableObjectIdShim {
  readonly name: string | undefined;
  readonly #hex: string;
  constructor(hex: string, name?: string) {
    this.#hex = hex;
    this.name = name;
  }
  toString(): string {
    return this.#hex;
  }
  equals(other: unknown): boolean {
    return String(other) === this.#hex;
  }
}

export function durableObjectNamespace(descriptor: ShimDescriptor, binding: string) {
  const d = descriptor as unknown as DurableObjectDescriptor;
  const ns = (): string => {
    if (d.ns === null) {
      throw new Error(
        `Durable Object binding ${binding}: class ${d.className} of Worker ${d.script} has no namespace in this account yet ` +
          `(deploy ${d.script} with a migration that creates it).`,
      );
    }
    return d.ns;
  };
  const make = (body: string, name?: string) => new DurableObjectIdShim(body + mac(ns(), body), name);
  const fromString = (s: string) => {
    if (!/^[0-9a-f]{64}$/.test(s)) throw new TypeError("Invalid Durable Object ID: must be 64 hex digits.");
    if (mac(ns(), s.slice(0, 48)) !== s.slice(48)) throw new TypeError("Invalid Durable Object ID: ID is not for this namespace.");
    return new DurableObjectIdShim(s);
  };
  const stub = (id: DurableObjectIdShim) => {
    const hex = id.toString();
    const target: Record<string, unknown> = {
      id,
      name: id.name,
      fetch: (input: RequestInfo | URL, init?: RequestInit) => {
        const request = new Request(input, init);
        const headers = new Headers(request.headers);
        headers.set(DO_NS_HEADER, ns());
        headers.set(DO_ID_HEADER, hex);
        return d.gateway.fetch(new Request(request, { headers }));
      },
      // To the object's connect(socket) handler (do-connect.ts).
      connect: (address: unknown, options?: unknown) => {
        const a = addressText(address);
        return callerSocket(d.gateway.connect(hopAddress({ ns: ns(), id: hex, address: a }), options), a);
      },
    };
    // Any other property is an RPC method, as on a real stub; `then` must stay undefined so that
    // awaiting a stub does not call it.
    return new Proxy(target, {
      get(t, prop) {
        if (typeof prop === "symbol") return undefined;
        if (prop in t) return t[prop];
        if (prop === "then" || prop === "toJSON") return undefined;
        return (...args: unknown[]) => d.gateway.callObject(ns(), hex, prop, args);
      },
    });
  };
  const self = {
    idFromName: (name: string) => make(sha256Hex(`name\0${ns()}\0${String(name)}`).slice(0, 48), String(name)),
    newUniqueId: (_opts?: { jurisdiction?: string }) => {
      const bytes = crypto.getRandomValues(new Uint8Array(24));
      return make(Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(""));
    },
    idFromString: (s: string) => fromString(String(s)),
    get: (id: DurableObjectIdShim | string, _opts?: unknown) => stub(id instanceof DurableObjectIdShim ? id : fromString(String(id))),
    getByName: (name: string, _opts?: unknown) => stub(self.idFromName(name)),
    jurisdiction: (_j: string) => self,
  };
  return self;
}
