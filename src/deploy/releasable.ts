// What today's release path uploads from a WorkerSource: the modules, plain vars, KV (by logical
// name), services, version metadata, compatibility. The source model carries more (D1, R2,
// queues, Durable Objects, assets, crons, routes, script settings…); until the release path
// wires them (issue 13), a Worker that needs them is refused here, by name, rather than released
// without them (a Worker missing its D1 binding throws at its first request).
import type { WorkerSource } from "../config/source/model.ts";
import { CboError } from "../kit/errors.ts";

export function unreleasedParts(source: WorkerSource): string[] {
  const out: string[] = [];
  for (const [name, v] of Object.entries(source.vars)) if (typeof v === "object" && v !== null) out.push(`JSON var ${name}`);
  for (const b of source.bindings) {
    if (b.kind === "kv" || b.kind === "version_metadata") continue;
    if (b.kind === "service" && !b.entrypoint && !b.environment && !b.props) continue;
    out.push(`${b.kind.replace("_", " ")} binding ${b.binding}`);
  }
  if (source.migrations.length > 0) out.push("Durable Object migrations");
  for (const c of source.queueConsumers) out.push(`queue consumer of ${c.queue.name}`);
  if (source.triggers.crons !== undefined) out.push("cron triggers");
  if (source.routes.length > 0) out.push("routes");
  if (source.assets) out.push("static assets");
  const s = source.settings;
  for (const [key, v] of Object.entries({
    workers_dev: s.workersDev,
    preview_urls: s.previewUrls,
    placement: s.placement,
    limits: s.limits,
    observability: s.observability,
    logpush: s.logpush,
    tail_consumers: s.tailConsumers,
  })) {
    if (v !== undefined) out.push(key);
  }
  if (s.keepVars) out.push("keep_vars");
  return out;
}

export function checkReleasable(source: WorkerSource): void {
  const parts = unreleasedParts(source);
  if (parts.length === 0) return;
  throw new CboError(
    "ERR_VALIDATION",
    `Worker ${source.name} uses ${parts.join(", ")}, which this orchestrator reads but does not release yet.`,
    {
      details: { worker: source.name, unreleased: parts },
      hint: "Remove them for now, or keep releasing this Worker with wrangler; the release path is gaining them (issue 13).",
    },
  );
}
