// A release's progress, step by step, from its record and its events (the same events the CLI
// follows). Pure: the detail page feeds it the events it has and redraws from the result; a
// late or repeated event changes nothing (events are applied in id order, each id once).
import { isTerminal } from "../contract/index.ts";
import type { Release, StoredEvent } from "./types.ts";

export type StepState = "pending" | "running" | "passed" | "failed";
export type TargetProgress = {
  target: string;
  wave: number;
  versionId: string | null;
  steps: Array<{ percent: number; state: StepState; detail: string | null }>;
  /** What happened to the target after its steps: rolled back, restored… */
  note: string | null;
};
export type Progress = { kind: Release["kind"]; phase: string; targets: TargetProgress[]; ended: boolean };

type Plan = { waves?: unknown; steps?: unknown; targets?: unknown; actions?: unknown };
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);

export function releaseProgress(release: Release, events: StoredEvent[]): Progress {
  const plan = release.plan as Plan;
  const waves = Array.isArray(plan.waves) ? plan.waves.map(strings) : [];
  const planTargets = Array.isArray(plan.targets)
    ? plan.targets
        .map((t) => (typeof t === "object" && t !== null ? (t as { name?: unknown; versionId?: unknown }) : {}))
        .filter((t): t is { name: string; versionId?: unknown } => typeof t.name === "string")
    : [];
  const steps =
    release.kind === "rollback" ? [100] : Array.isArray(plan.steps) ? plan.steps.filter((s): s is number => typeof s === "number") : [];
  // A target's own steps are its planned deploy actions (a first deploy goes straight to 100%).
  const actions = Array.isArray(plan.actions) ? (plan.actions as Array<{ kind?: unknown; target?: unknown; percent?: unknown }>) : [];
  const stepsOf = (name: string) => {
    const own = actions
      .filter((a) => a.kind === "deploy" && a.target === name && typeof a.percent === "number")
      .map((a) => a.percent as number);
    return release.kind === "release" && own.length > 0 ? own : steps;
  };
  const order = waves.flat().length ? waves.flat() : planTargets.map((t) => t.name);
  const targets = new Map<string, TargetProgress>(
    order.map((name) => [
      name,
      {
        target: name,
        wave: Math.max(
          0,
          waves.findIndex((w) => w.includes(name)),
        ),
        versionId: release.kind === "rollback" ? (strOf(planTargets.find((t) => t.name === name)?.versionId) ?? null) : null,
        steps: stepsOf(name).map((percent) => ({ percent, state: "pending" as StepState, detail: null })),
        note: null,
      },
    ]),
  );
  let phase = release.status === "running" ? "starting" : release.status;
  const all = () => [...targets.values()];
  const stepOf = (t: TargetProgress, percent: unknown) =>
    typeof percent === "number" ? t.steps.find((s) => s.percent === percent) : t.steps.find((s) => s.state === "running");

  for (const e of [...events].sort((a, b) => a.id - b.id)) {
    if (e.release_id !== release.id) continue;
    const t = e.target ? targets.get(e.target) : undefined;
    const d = e.data;
    switch (e.type) {
      case "release.created":
        phase = "running";
        break;
      case "release.target.uploaded":
        if (t) t.versionId = strOf(d.versionId) ?? t.versionId;
        break;
      case "release.step.started": {
        const s = t && stepOf(t, d.percent);
        if (s && s.state === "pending") s.state = "running";
        phase = "running";
        break;
      }
      case "release.step.passed": {
        const s = t && stepOf(t, d.percent);
        if (s) (s.state = "passed"), (s.detail = null);
        break;
      }
      case "release.step.failed": {
        const s = t && (stepOf(t, d.percent) ?? t.steps.find((x) => x.state === "pending"));
        if (s) (s.state = "failed"), (s.detail = strOf(d.reason) ?? null);
        break;
      }
      case "release.rolling_back":
        phase = "rolling back";
        for (const name of strings(d.targets)) {
          const x = targets.get(name);
          if (x) x.note = "rolling back";
        }
        break;
      case "release.restore.pending":
        // The rollback could not put this target back yet: the engine retries until it lands.
        if (t)
          t.note = `restore pending${strOf(d.versionId) ? ` (back to ${strOf(d.versionId)!.slice(0, 8)})` : ""}: ${strOf(d.reason) ?? "retrying"}`;
        break;
      case "release.restore.completed":
        if (t) t.note = `restored${strOf(d.versionId) ? ` to ${strOf(d.versionId)!.slice(0, 8)}` : ""}`;
        break;
      case "rollback.started":
        phase = "running";
        for (const x of all()) for (const s of x.steps) if (s.state === "pending") s.state = "running";
        break;
      case "rollback.completed":
        for (const x of all()) for (const s of x.steps) s.state = "passed";
        phase = "succeeded";
        break;
      case "rollback.failed":
        for (const x of all()) for (const s of x.steps) if (s.state !== "passed") s.state = "failed";
        phase = "failed";
        break;
      case "release.succeeded":
        phase = "succeeded";
        break;
      case "release.rolled_back":
      case "release.aborted":
        phase = e.type === "release.aborted" ? "aborted" : "rolled_back";
        for (const x of all()) if (x.note === "rolling back" || x.note?.startsWith("restored")) x.note = "back on its previous version";
        break;
      case "release.failed":
        phase = "failed";
        break;
      default:
        break;
    }
  }
  // The record is the authority on how it ended (events may still be on their way).
  if (isTerminal(release.status)) phase = release.status;
  return { kind: release.kind, phase, targets: all(), ended: isTerminal(phase) };
}

function strOf(v: unknown): string | undefined {
  return typeof v === "string" && v.length > 0 ? v : undefined;
}

/** One line per event for the detail page's log. */
export function describe(e: StoredEvent): string {
  const d = e.data;
  const pct = typeof d.percent === "number" ? ` ${d.percent}%` : "";
  const why = strOf(d.reason) ? `: ${d.reason}` : "";
  switch (e.type) {
    case "release.created":
      return "release created";
    case "release.target.uploaded":
      return `uploaded version ${strOf(d.versionId)?.slice(0, 8) ?? ""}`.trim();
    case "release.step.started":
      return `step${pct} started`;
    case "release.step.passed":
      return `step${pct} passed`;
    case "release.step.failed":
      return `step${pct} FAILED${why}`;
    case "release.rolling_back":
      return `rolling back${why}`;
    case "rollback.started":
      return `rollback to ${strOf(d.resolved) ?? "the previous versions"} started`;
    case "release.restore.pending":
      return `restore pending${strOf(d.versionId) ? ` (back to ${strOf(d.versionId)!.slice(0, 8)})` : ""}${why}`;
    case "release.restore.completed":
      return `restored${strOf(d.versionId) ? ` to ${strOf(d.versionId)!.slice(0, 8)}` : ""}`;
    default:
      return `${e.type.replace(/^(release|rollback)\./, "").replace(/_/g, " ")}${why}`;
  }
}
