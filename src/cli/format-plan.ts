// `cbo plan` for people: what a release will do before it does it: targets and what they run now,
// waves, steps and gate, per target its resources, bindings, migrations, assets, settings that
// change and phases (format-plan-targets.ts), every action in order, and the Cloudflare API
// requests it will spend.
import type { ReleasePlan } from "../contract/index.ts";
import { formatDiff, readsText } from "./format-diff.ts";
import { targetsDetailsText } from "./format-plan-targets.ts";
import { liveText } from "./format-status.ts";
import { percent, table } from "./table.ts";

export function gateText(gate: Record<string, unknown> | undefined): string {
  if (!gate) return "none";
  const g = gate as Partial<Record<string, number | string>>;
  const parts = [
    g.probe_path !== undefined ? `probe ${g.probe_path}` : "",
    g.interval_ms !== undefined ? `every ${g.interval_ms} ms` : "",
    g.timeout_ms !== undefined ? `timeout ${g.timeout_ms} ms` : "",
    g.failure_limit !== undefined ? `fail after ${g.failure_limit} in a row` : "",
    typeof g.max_error_rate === "number" ? `max error rate ${percent(Math.round(g.max_error_rate * 1000) / 10)}` : "",
    g.bake_ms !== undefined ? `bake ${g.bake_ms} ms` : "",
    g.min_samples !== undefined ? `min ${g.min_samples} samples` : "",
  ];
  return parts.filter(Boolean).join(", ");
}

/** Read loosely (a kind this CLI does not know is worded as it is). */
export function actionText(a: { kind: string; target: string; percent?: number }): string {
  const at = a.percent === undefined ? "" : ` ${percent(a.percent)}`;
  switch (a.kind) {
    case "upload":
      return `upload a new version to ${a.target}`;
    case "deploy":
      return `deploy ${a.target} at${at}`;
    case "gate":
      return `gate ${a.target} at${at}`;
    default:
      return `${a.kind} ${a.target}${at}`;
  }
}

/** How a secret reaches a target: inside the released version, from the relay, or not at all. */
export function deliveryText(s: NonNullable<ReleasePlan["secrets"]>[number]): string {
  if (!s.delivered) return `withheld: ${s.reason ?? "not allowed on this target"}`;
  return s.mode === "binding" ? "inside the version" : s.mode === "relay" ? "through the relay" : s.mode;
}

/** One row per target and secret: name@version, mode, and how it is delivered or why it is not. */
export function secretsText(secrets: NonNullable<ReleasePlan["secrets"]>): string {
  return table(
    secrets.map((s) => [s.target, `${s.name}@${s.version}`, s.mode, deliveryText(s)]),
    ["TARGET", "SECRET", "MODE", "DELIVERY"],
  );
}

export function formatPlan(plan: ReleasePlan): string {
  const lines: string[] = [];
  lines.push(
    `plan: release ${plan.worker}${plan.tenant ? ` (tenant ${plan.tenant})` : ""}${plan.bundleHash ? `, bundle ${plan.bundleHash.slice(0, 12)}` : ""}`,
  );
  lines.push("");
  for (const w of plan.warnings ?? []) lines.push(`warning: ${w}`);
  if (plan.warnings?.length) lines.push("");
  if (plan.diff) {
    lines.push("diff against what each target runs now:");
    lines.push(
      formatDiff(plan.diff)
        .trimEnd()
        .replace(/^(?=.)/gm, "  "),
    );
    lines.push("");
  }
  lines.push(
    table(
      plan.targets.map((t) => [t.name, t.accountId ?? "-", liveText(t.live), t.previousVersionId ?? "-"]),
      ["TARGET", "ACCOUNT", "LIVE NOW", "ROLLBACK TO"],
    ),
  );
  lines.push("");
  lines.push(
    `waves:  ${plan.waves.map((w, i) => `${i + 1}) ${w.join(", ")}`).join("   ")}${plan.waves.length > 1 ? "   (canary first)" : ""}`,
  );
  lines.push(`steps:  ${plan.steps.map(percent).join(" -> ")} per target`);
  lines.push(`gate:   ${gateText(plan.gate)}`);
  lines.push("");
  if (plan.nonGradual) {
    const ng = plan.nonGradual;
    lines.push(`NOT GRADUAL on ${ng.targets.join(", ")}: ${ng.reason}.`);
    lines.push("  needs allow_non_gradual: true in the rollout, or cbo release --allow-non-gradual");
    if (ng.deletesClasses.length > 0)
      lines.push(`  deletes or renames Durable Object class(es) ${ng.deletesClasses.join(", ")}: also needs --confirm-class-deletion`);
    lines.push("");
  }
  if (plan.secrets && plan.secrets.length > 0) {
    const withheld = plan.secrets.filter((x) => !x.delivered).length;
    lines.push(
      `secrets (${plan.secrets.length - withheld} delivered${withheld ? `, ${withheld} withheld` : ""}; names and versions only):`,
    );
    lines.push(secretsText(plan.secrets).replace(/^/gm, "  "));
    lines.push("");
  }
  const details = targetsDetailsText(plan);
  if (details) {
    lines.push("per target:");
    lines.push(details.replace(/^(?=.)/gm, "  "));
    lines.push("");
  }
  lines.push(`actions (${plan.actions.length}):`);
  plan.actions.forEach((a, i) => lines.push(`  ${String(i + 1).padStart(3)}. ${actionText(a)}`));
  lines.push("");
  if (plan.diff && !plan.diff.changed) {
    // Nothing to release: the phases above are what --force would do; as it is, the release ends
    // `unchanged` after the plan's reads (engine.ts), and that is all it spends.
    const reads = plan.targets.reduce((n, t) => n + (t.phases?.find((p) => p.phase === "read")?.apiCalls ?? 0), 0);
    lines.push(
      `Cloudflare API calls: ${plan.apiCalls} when every gate passes, with --force (retries excluded); without it the release ends unchanged after its reads (${reads})`,
    );
  } else lines.push(`Cloudflare API calls: ${plan.apiCalls} when every gate passes (retries excluded)`);
  if (plan.reads) lines.push(readsText("this plan", plan.reads));
  return lines.join("\n") + "\n";
}
