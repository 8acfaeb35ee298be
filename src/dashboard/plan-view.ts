// What a release would do and change, shown before it starts (GET /v1/workers/:name/plan, which
// carries the diff): its warnings first, the rollout (waves, steps with their pauses, gate, analysis, API requests),
// each target's phases, and per target what differs from what it runs now, drift first.
import type { DiffChange, ReleasePlan, TargetDiff, WorkerDiff } from "../contract/index.ts";
import type { El } from "./browser.ts";
import { badge, h, short, table } from "./dom.ts";
import { duration } from "./release-steps.ts";

/** `50% → approve → 100%`: the steps as a target takes them. */
export function stepWords(plan: Pick<ReleasePlan, "steps" | "pauses">): string {
  return plan.steps
    .flatMap((s) => [
      `${s}%`,
      ...(plan.pauses ?? []).filter((p) => p.after === s).map((p) => (p.pause === "approve" ? "approve" : `pause ${duration(p.pause.ms)}`)),
    ])
    .join(" → ");
}

export function planView(plan: ReleasePlan): El {
  const a = plan.analysis;
  return h(
    "div",
    { class: "plan", "data-plan": plan.worker },
    // What `cbo plan` prints as `warning:` lines (a gate probe the assets answer, skipped
    // _redirects lines, secrets.required outside the vault…): read before starting, not after.
    plan.warnings?.length
      ? h(
          "ul",
          { class: "warnings", role: "alert", "data-plan-warnings": plan.warnings.length },
          ...plan.warnings.map((w) => h("li", {}, `Warning: ${w}`)),
        )
      : null,
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Bundle"),
      h("dd", {}, h("code", {}, short(plan.bundleHash))),
      h("dt", {}, "Waves"),
      h("dd", {}, plan.waves.map((w) => w.join(" + ")).join(" → ")),
      h("dt", {}, "Steps"),
      h("dd", { "data-steps": "" }, stepWords(plan)),
      h("dt", {}, "Gate"),
      h(
        "dd",
        {},
        `probes ${plan.gate.probe_path}, ${plan.gate.min_samples}+ samples over ${plan.gate.bake_ms} ms, error rate ≤ ${plan.gate.max_error_rate}`,
      ),
      h("dt", {}, "Canary analysis"),
      h(
        "dd",
        {},
        a?.enabled
          ? `on: error rate +${a.min_error_rate_increase} and p < ${a.alpha}, p50 ×${a.max_p50_ratio}, p99 ×${a.max_p99_ratio} (≥ +${a.min_latency_increase_ms} ms), ${a.min_requests}+ requests, inconclusive: ${a.on_inconclusive}`
          : "off",
      ),
      h("dt", {}, "API requests"),
      h("dd", { "data-api-calls": plan.apiCalls }, `${plan.apiCalls} (when every gate passes)`),
    ),
    table(
      "What the release does per target",
      ["Target", "Runs now", "Upload", "Phases"],
      plan.targets.map((t) => [
        t.name,
        t.live.length ? t.live.map((l) => `${short(l.versionId)} ${l.percentage}%`).join(", ") : "nothing",
        t.upload === "script" ? "script (100% at once)" : "new version, then the steps",
        h("ul", { class: "phases" }, ...(t.phases ?? []).map((p) => h("li", {}, `${p.phase}: ${p.summary} (${p.apiCalls} requests)`))),
      ]),
      { class: "data compact", "data-table": "plan-targets" },
    ),
  );
}

const CHANGE_WORDS: Record<DiffChange["change"], string> = { added: "added", removed: "removed", changed: "changed", unknown: "unknown" };

export function diffView(diff: WorkerDiff): El {
  return h(
    "div",
    { class: "diff", "data-diff": diff.worker, "data-changed": String(diff.changed), "data-drift": String(diff.drift) },
    diff.drift
      ? h(
          "p",
          { class: "error", role: "alert" },
          "Drift: a target runs a version the orchestrator never uploaded there (a wrangler deploy or a dashboard edit). The release replaces it.",
        )
      : null,
    ...diff.targets.map(targetDiff),
  );
}

function targetDiff(t: TargetDiff): El {
  return h(
    "div",
    { class: "target-diff", "data-target": t.target, "data-changes": t.changes.length },
    h(
      "h4",
      {},
      `${t.target} `,
      t.drift ? badge("drifted") : null,
      " ",
      h(
        "span",
        { class: "muted" },
        t.versionId
          ? `against ${short(t.versionId)}${t.live.length > 1 ? ` (split ${t.live.map((l) => `${l.percentage}%`).join("/")})` : ""}`
          : "nothing deployed yet",
      ),
    ),
    t.unknownVersions.length ? h("p", { class: "error" }, `Unknown live versions: ${t.unknownVersions.map(short).join(", ")}`) : null,
    t.changes.length === 0
      ? h("p", { class: "muted" }, "No change: it runs this already.")
      : table(
          `What changes on ${t.target}`,
          ["Area", "Item", "Change", "Now", "After"],
          t.changes.map((c) => [
            c.area,
            h("code", {}, c.item),
            badge(CHANGE_WORDS[c.change], `change-${c.change}`),
            c.live ?? "",
            c.desired ?? "",
          ]),
          { class: "data compact", "data-table": "diff" },
        ),
  );
}
