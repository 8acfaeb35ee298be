// Runs INSIDE each loaded Worker version, as its first module: the router prepends an import of it
// to the Worker's main module, so it evaluates before any user code. Bindings a Worker Loader env
// cannot carry as real JS objects arrive as descriptors under `__CBO_SHIM`; this module replaces
// each with the object Cloudflare would give the Worker. The env object of `cloudflare:workers`
// is the one every handler and Durable Object constructor receives, so patching it once suffices.
//
// Descriptor kinds: durable_object_namespace (ids computed here, synchronously, as at Cloudflare;
// calls go to the router's DoGateway), analytics_engine (writeDataPoint, written through the
// router), unavailable (a product the local edge does not emulate: every use throws, naming it).
import { env, waitUntil } from "cloudflare:workers";

type Gateway = {
  fetchObject(ns: string, id: string, request: Request): Promise<Response>;
  callObject(ns: string, id: string, method: string, args: unknown[]): Promise<unknown>;
};
type Descriptor =
  | { kind: "durable_object_namespace"; ns: string | null; className: string; script: string; gateway: Gateway }
  | { kind: "analytics_engine"; dataset: string; sink: { write(dataset: string, point: unknown): Promise<void> } }
  | { kind: "unavailable"; type: string; product: string };

// --- SHA-256, synchronous: idFromName() must return at once, and WebCrypto's digest is async ---
const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01,
  0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
  0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
  0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08,
  0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

export function sha256Hex(text: string): string {
  const msg = new TextEncoder().encode(text);
  const len = ((msg.length + 9 + 63) >> 6) << 6;
  const buf = new Uint8Array(len);
  buf.set(msg);
  buf[msg.length] = 0x80;
  const view = new DataView(buf.buffer);
  view.setUint32(len - 4, msg.length * 8);
  view.setUint32(len - 8, Math.floor((msg.length * 8) / 0x1_0000_0000));
  const h = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  const w = new Uint32Array(64);
  const rotr = (x: number, n: number) => (x >>> n) | (x << (32 - n));
  for (let off = 0; off < len; off += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getUint32(off + i * 4);
    for (let i = 16; i < 64; i++) {
      const s0 = rotr(w[i - 15]!, 7) ^ rotr(w[i - 15]!, 18) ^ (w[i - 15]! >>> 3);
      const s1 = rotr(w[i - 2]!, 17) ^ rotr(w[i - 2]!, 19) ^ (w[i - 2]! >>> 10);
      w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
    }
    let [a, b, c, d, e, f, g, hh] = h as unknown as number[];
    for (let i = 0; i < 64; i++) {
      const t1 = (hh! + (rotr(e!, 6) ^ rotr(e!, 11) ^ rotr(e!, 25)) + ((e! & f!) ^ (~e! & g!)) + K[i]! + w[i]!) | 0;
      const t2 = ((rotr(a!, 2) ^ rotr(a!, 13) ^ rotr(a!, 22)) + ((a! & b!) ^ (a! & c!) ^ (b! & c!))) | 0;
      hh = g; g = f; f = e; e = (d! + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
    }
    h[0] = (h[0]! + a!) | 0; h[1] = (h[1]! + b!) | 0; h[2] = (h[2]! + c!) | 0; h[3] = (h[3]! + d!) | 0;
    h[4] = (h[4]! + e!) | 0; h[5] = (h[5]! + f!) | 0; h[6] = (h[6]! + g!) | 0; h[7] = (h[7]! + hh!) | 0;
  }
  return Array.from(h, (x) => x.toString(16).padStart(8, "0")).join("");
}

// --- Durable Object namespaces ---
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

function namespace(binding: string, d: Extract<Descriptor, { kind: "durable_object_namespace" }>) {
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
      fetch: (input: RequestInfo | URL, init?: RequestInit) => d.gateway.fetchObject(ns(), hex, new Request(input, init)),
      connect: () => {
        throw new Error("connect() on Durable Object stubs is not emulated by the local edge.");
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

// --- Analytics Engine ---
function dataset(binding: string, d: Extract<Descriptor, { kind: "analytics_engine" }>) {
  const text = (v: unknown) => (v === null || v === undefined ? null : typeof v === "string" ? v : new TextDecoder().decode(v as ArrayBuffer));
  return {
    writeDataPoint(p: { indexes?: unknown[]; blobs?: unknown[]; doubles?: number[] } = {}) {
      const indexes = p.indexes ?? [];
      const blobs = p.blobs ?? [];
      const doubles = p.doubles ?? [];
      if (indexes.length > 1) throw new Error(`${binding}.writeDataPoint: at most 1 index is allowed.`);
      if (blobs.length > 20) throw new Error(`${binding}.writeDataPoint: at most 20 blobs are allowed.`);
      if (doubles.length > 20) throw new Error(`${binding}.writeDataPoint: at most 20 doubles are allowed.`);
      if (doubles.some((x) => typeof x !== "number")) throw new TypeError(`${binding}.writeDataPoint: doubles must be numbers.`);
      const point = { index1: text(indexes[0]), blobs: blobs.map(text), doubles };
      // Fire and forget, like the real binding, but kept alive past the response.
      waitUntil(d.sink.write(d.dataset, point).catch(() => {}));
    },
  };
}

// --- products the local edge does not run ---
const INERT = new Set(["then", "toJSON", "constructor", "valueOf", "toString", "inspect", "$$typeof"]);
function unavailable(binding: string, d: Extract<Descriptor, { kind: "unavailable" }>) {
  return new Proxy(
    {},
    {
      get(_t, prop) {
        if (typeof prop === "symbol" || INERT.has(prop)) return undefined;
        throw new Error(
          `${d.product} is not emulated by the local edge: binding ${binding} (type "${d.type}") cannot be used here (tried .${prop}). ` +
            "Deploy to Cloudflare to use it, or guard the call when running on the local edge.",
        );
      },
    },
  );
}

const e = env as unknown as Record<string, unknown>;
const descriptors = e.__CBO_SHIM as Record<string, Descriptor> | undefined;
if (descriptors) {
  for (const [name, d] of Object.entries(descriptors)) {
    e[name] = d.kind === "durable_object_namespace" ? namespace(name, d) : d.kind === "analytics_engine" ? dataset(name, d) : unavailable(name, d);
  }
  try {
    delete e.__CBO_SHIM;
  } catch {
    // a frozen env keeps the descriptor; it does no harm
  }
}
