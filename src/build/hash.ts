// The release hash: what a version upload carries, so that two builds with the same hash upload
// the same thing. It covers every module (name, type, bytes), the uploaded source map, and the
// version's metadata from the source (compatibility, vars, bindings by logical resource name,
// Durable Object migrations, assets config, placement, limits, tail consumers, observability,
// logpush, keep_vars). Static assets' bytes and per-target resource ids are not in it: the
// release adds the asset manifest and resolves ids per target.
//
// Canonical JSON: object keys sorted by UTF-16 code units (never by locale, which would make
// the hash depend on the host), arrays in their order.
import { createHash } from "node:crypto";
import type { WorkerSource } from "../config/source/model.ts";
import { byCodeUnits } from "../kit/order.ts";

export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (typeof v === "object" && v !== null) {
    const keys = Object.keys(v)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort(byCodeUnits);
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`).join(",")}}`;
  }
  return JSON.stringify(v) ?? "null";
}

/** Plain code-unit order (what Array.prototype.sort does without a comparator). */
export { byCodeUnits };

/** The metadata side of a version, as far as the source decides it. */
export function releaseMetadata(source: WorkerSource): Record<string, unknown> {
  const bindings = source.bindings
    .map((b) =>
      "resource" in b ? { ...b, resource: { kind: b.resource.kind, name: b.resource.name, jurisdiction: b.resource.jurisdiction } } : b,
    )
    .sort((a, b) => byCodeUnits(a.binding, b.binding));
  const s = source.settings;
  return {
    compatibilityDate: source.compatibilityDate,
    compatibilityFlags: [...source.compatibilityFlags].sort(byCodeUnits),
    vars: source.vars,
    bindings,
    migrations: source.migrations,
    assets: source.assets ? { ...source.assets, directory: undefined } : undefined,
    settings: {
      placement: s.placement,
      limits: s.limits,
      tailConsumers: s.tailConsumers,
      observability: s.observability,
      logpush: s.logpush,
      keepVars: s.keepVars,
    },
  };
}

export function releaseHash(
  modules: { name: string; type: string; content: Uint8Array | string }[],
  sourceMap: { name: string; content: string } | undefined,
  source: WorkerSource,
): string {
  const h = createHash("sha256");
  const digest = (c: Uint8Array | string) => createHash("sha256").update(c).digest("hex");
  const parts = modules.map((m) => ({ name: m.name, type: m.type, sha256: digest(m.content) })).sort((a, b) => byCodeUnits(a.name, b.name));
  h.update(
    canonicalJson({
      modules: parts,
      sourceMap: sourceMap ? { name: sourceMap.name, sha256: digest(sourceMap.content) } : null,
      metadata: releaseMetadata(source),
    }),
  );
  return h.digest("hex");
}
