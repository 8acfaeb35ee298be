// The env shim's runtime: bundled once into the module "__cbo_shim.js" that the router adds to
// every Worker version with a shimmed binding (see entry.ts for the generated main module that
// imports it). Some bindings cannot be RPC stubs, because part of their API is synchronous
// (env.DB.prepare()) or hands out objects with methods (R2's get()). For those, the router puts
// a raw RPC stub into env, and this module swaps it for a real JS object built by a factory, in
// the Worker's own isolate, before the Worker's code sees env:
//
//   - the default export's handlers (fetch, scheduled, queue, …) get the wrapped env as their
//     second argument;
//   - every exported class (WorkerEntrypoint, DurableObject, or a plain class used as one) is
//     subclassed so that its constructor receives the wrapped env (this.env is then the wrapped
//     one too).
//
// One wrapped env per raw env object (a WeakMap), so objects such as a D1 session keep identity
// across requests. Bindings with no shim pass through untouched. To shim another binding kind,
// add a factory to FACTORIES and have the router mark the binding with that kind.
import { D1Database, type D1RawStub } from "./d1.ts";
import { R2Bucket, type R2RawStub } from "./r2.ts";
import { Queue, type QueueRawStub } from "./queue.ts";

/** What the router says about one shimmed binding: its kind, plus whatever the factory needs. */
export type ShimSpec = { kind: string; [key: string]: unknown };
export type ShimFactory = (raw: unknown, spec: ShimSpec) => unknown;

export const FACTORIES: Record<string, ShimFactory> = {
  d1: (raw) => new D1Database(raw as D1RawStub),
  r2_bucket: (raw) => new R2Bucket(raw as R2RawStub),
  queue: (raw, spec) => new Queue(raw as QueueRawStub, spec.jsonDefault === true),
};

/** Handlers of an exported handler object whose second argument is env. */
const HANDLERS = ["fetch", "scheduled", "queue", "tail", "trace", "tailStream", "email", "test"];

function isClass(v: unknown): v is new (...args: unknown[]) => object {
  return typeof v === "function" && /^class[\s{]/.test(Function.prototype.toString.call(v));
}

export function createEnvWrapper(shims: Record<string, ShimSpec>, factories: Record<string, ShimFactory> = FACTORIES) {
  for (const [name, spec] of Object.entries(shims)) {
    if (!factories[spec.kind]) throw new Error(`The local edge has no shim for binding ${name} of kind "${spec.kind}".`);
  }
  const cache = new WeakMap<object, Record<string, unknown>>();
  return function wrapEnv<E>(env: E): E {
    if (env === null || typeof env !== "object") return env;
    let wrapped = cache.get(env as object);
    if (!wrapped) {
      wrapped = { ...(env as Record<string, unknown>) };
      for (const [name, spec] of Object.entries(shims)) {
        if (name in wrapped) wrapped[name] = factories[spec.kind]!(wrapped[name], spec);
      }
      cache.set(env as object, wrapped);
    }
    return wrapped as E;
  };
}

function wrapExport(value: unknown, wrapEnv: <E>(env: E) => E): unknown {
  if (isClass(value)) {
    const Base = value;
    const Wrapped = class extends Base {
      constructor(...args: unknown[]) {
        // (ctx, env) for WorkerEntrypoint and DurableObject alike.
        if (args.length >= 2) args[1] = wrapEnv(args[1]);
        super(...args);
      }
    };
    Object.defineProperty(Wrapped, "name", { value: Base.name });
    return Wrapped;
  }
  if (value !== null && typeof value === "object") {
    const original = value as Record<string, unknown>;
    const handlers = HANDLERS.filter((h) => typeof original[h] === "function");
    if (handlers.length === 0) return value;
    const out = Object.create(original) as Record<string, unknown>;
    for (const h of handlers) {
      const fn = original[h] as (...args: unknown[]) => unknown;
      out[h] = function (this: unknown, event: unknown, env: unknown, ...rest: unknown[]) {
        return fn.call(this, event, wrapEnv(env), ...rest);
      };
    }
    return out;
  }
  return value;
}

/** The user's module namespace with env wrapped in every export workerd may call. */
export function wrapModule(mod: Record<string, unknown>, shims: Record<string, ShimSpec>): Record<string, unknown> {
  const wrapEnv = createEnvWrapper(shims);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(mod)) out[key] = wrapExport(mod[key], wrapEnv);
  return out;
}
