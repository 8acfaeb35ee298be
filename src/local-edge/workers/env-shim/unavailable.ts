// A binding to a product the local edge does not run (Workers AI, Hyperdrive, …; the list is in
// ../binding-kinds.ts): the Worker starts, and any use of the binding throws an error naming the
// product and the binding, at the line that needs it.
import type { ShimDescriptor } from "./descriptor.ts";

const INERT = new Set(["then", "toJSON", "constructor", "valueOf", "toString", "inspect", "$$typeof"]);
export function unavailableBinding(descriptor: ShimDescriptor, binding: string) {
  const d = descriptor as unknown as { type: string; product: string };
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
