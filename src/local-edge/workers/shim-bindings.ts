// The env-shim descriptors of the binding kinds this edge rebuilds inside a loaded Worker
// (env-shim/shim.ts has their factories): Durable Object namespaces, Analytics Engine datasets,
// and the products the edge does not run. Each descriptor carries what its factory needs,
// usually an RPC stub back to the router (ctx.exports).
import { UNAVAILABLE_KINDS } from "./binding-kinds.ts";
import type { ShimDescriptor } from "./env-shim/shim.ts";

type Binding = { type: string; name: string; [k: string]: unknown };
type Ctx = { exports: Record<string, (opts: { props: Record<string, unknown> }) => unknown> };

export function shimBinding(b: Binding, spec: { script: string }, ctx: Ctx): ShimDescriptor | undefined {
  if (b.type === "durable_object_namespace") {
    // namespace_id is resolved by the edge when it hands out the version (runtime/control.ts).
    return {
      kind: "durable_object_namespace",
      ns: (b.namespace_id as string | undefined) ?? null,
      className: b.class_name,
      script: (b.script_name as string | undefined) ?? spec.script,
      gateway: ctx.exports.DoGateway!({ props: {} }),
    };
  }
  if (b.type === "analytics_engine") {
    return {
      kind: "analytics_engine",
      dataset: (b.dataset as string | undefined) ?? b.name,
      sink: ctx.exports.AnalyticsSink!({ props: { script: spec.script } }),
    };
  }
  if (b.type in UNAVAILABLE_KINDS) return { kind: "unavailable", type: b.type, product: UNAVAILABLE_KINDS[b.type] };
  return undefined;
}
