// `cbo plan`, per target: what the release does there besides the steps. Resources found or
// created (in which jurisdiction), the bindings with the target's resource behind each, D1
// migrations to apply, static assets to send, the Durable Object migration and its upload path,
// script settings that change (current -> desired), and the phases in order with their requests.
// Read loosely: a plan from an older daemon without these fields prints nothing here.
import type { ReleasePlan } from "../contract/index.ts";
import { table } from "./table.ts";

type PlanTarget = ReleasePlan["targets"][number];

const short = (v: unknown): string => {
  if (v === null || v === undefined) return "-";
  const text = typeof v === "string" ? v : JSON.stringify(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
};

export function targetDetailsText(t: PlanTarget): string {
  const lines: string[] = [];
  const head = [
    t.env ? `env ${t.env}` : "",
    t.bundleHash ? `bundle ${t.bundleHash.slice(0, 12)}` : "",
    t.upload === "script"
      ? "script PUT: serves the new version at 100% at once"
      : t.upload === "version"
        ? "version upload, then the steps"
        : "",
  ].filter(Boolean);
  lines.push(`${t.name}${head.length > 0 ? `: ${head.join("; ")}` : ""}`);
  if (t.durableObjectMigration)
    lines.push(
      `  Durable Object migration ${t.durableObjectMigration.oldTag ?? "(none)"} -> ${t.durableObjectMigration.newTag} (${t.durableObjectMigration.steps} step(s)); no rollback can go back past it`,
    );
  if (t.resources && t.resources.length > 0) {
    lines.push("  resources:");
    lines.push(
      table(
        t.resources.map((r) => [
          r.kind,
          r.name,
          r.jurisdiction ?? "-",
          r.action === "create" ? "create" : `use ${r.id ?? ""}`.trim(),
          r.usedBy.join(", "),
          r.note ?? "",
        ]),
        ["KIND", "NAME", "JURISDICTION", "ACTION", "USED BY", "NOTE"],
      ).replace(/^/gm, "    "),
    );
  }
  if (t.bindings && t.bindings.length > 0) {
    lines.push("  bindings:");
    lines.push(
      table(
        t.bindings.map((b) => [b.name, b.type, b.resource ?? "-", b.resource ? (b.id ?? "(created by this release)") : "-"]),
        ["BINDING", "TYPE", "RESOURCE", "ID IN TARGET"],
      ).replace(/^/gm, "    "),
    );
  }
  for (const d of t.d1Migrations ?? [])
    lines.push(`  D1 ${d.database} (${d.binding}): before any traffic shifts, bookmark then apply ${d.pending.join(", ")}`);
  for (const d of t.d1Contract ?? [])
    lines.push(`  D1 ${d.database} (${d.binding}): after every target passed its last gate, contract ${d.pending.join(", ")}`);
  if (t.assets)
    lines.push(
      `  assets: ${t.assets.files} file(s), ${t.assets.bytes} bytes; ${t.assets.upload === 0 ? "all there already" : `upload ${t.assets.upload} new or changed (${t.assets.uploadBytes} bytes)`}`,
    );
  const changes = (t.settings ?? []).filter((s) => s.change);
  if (t.settings && t.settings.length > 0)
    lines.push(
      changes.length === 0
        ? `  settings: ${t.settings.map((s) => s.setting).join(", ")} already as desired`
        : `  settings that change (after the 100% step):\n${table(
            changes.map((s) => [s.setting, short(s.current), short(s.desired)]),
            ["SETTING", "NOW", "AFTER"],
          ).replace(/^/gm, "    ")}`,
    );
  if (t.phases && t.phases.length > 0) {
    lines.push("  phases:");
    t.phases.forEach((p, i) => lines.push(`    ${i + 1}. ${p.phase}: ${p.summary} (${p.apiCalls} API call${p.apiCalls === 1 ? "" : "s"})`));
  }
  return lines.join("\n");
}

/** Every target's details, or "" when the plan carries none (an older daemon). */
export function targetsDetailsText(plan: ReleasePlan): string {
  const any = plan.targets.some((t) => t.phases || t.resources || t.settings);
  if (!any) return "";
  return plan.targets.map(targetDetailsText).join("\n\n");
}
