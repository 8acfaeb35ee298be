// A release's progress, step by step, from its record and its events (the same events the CLI
// follows). Pure: the detail page feeds it the events it has and redraws from the result; a
// late or repeated event changes nothing (events are applied in id order, each id once).
import { isTerminal, waitPlace } from "../contract/index.ts";
import type { Release, StoredEvent } from "./types.ts";

export type StepState = "pending" | "running" | "passed" | "failed";
/** A `pause:` step after the step serving `after`%: approval (promote) or timer. */
export type PauseProgress = { after: number; kind: "approval" | "timer"; label: string; state: "pending" | "waiting" | "done" };
/** What a target waits for now (release.waiting until release.wait.ended). */
export type TargetWait = { kind: string; percent: number; until: string | null; since: string };
export type TargetProgress = {
  target: string;
  wave: number;
  versionId: string | null;
  steps: Array<{ percent: number; state: StepState; detail: string | null }>;
  pauses: PauseProgress[];
  waiting: TargetWait | null;
  /** What happened to the target after its steps: rolled back, restored… */
  note: string | null;
};
export type Progress = {
  kind: Release["kind"];
  phase: string;
  targets: TargetProgress[];
  ended: boolean;
  /** Paused (release.paused until release.resumed): no target starts another step. */
  paused: boolean;
};

type Plan = { waves?: unknown; steps?: unknown; targets?: unknown; actions?: unknown; pauses?: unknown };
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
  const pauses = plannedPauses(plan.pauses);
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
        pauses: release.kind === "release" ? pauses.filter((x) => stepsOf(name).includes(x.after)).map((x) => ({ ...x })) : [],
        waiting: null,
        note: null,
      },
    ]),
  );
  let phase = release.status === "running" ? "starting" : release.status;
  let paused = false;
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
      case "release.waiting": {
        if (!t) break;
        const kind = strOf(d.kind) ?? "unknown";
        const percent = typeof d.percent === "number" ? d.percent : 0;
        t.waiting = { kind, percent, until: strOf(d.until) ?? null, since: e.at };
        const x = t.pauses.find((q) => q.after === percent && q.kind === kind);
        if (x) x.state = "waiting";
        break;
      }
      case "release.wait.ended": {
        if (!t) break;
        t.waiting = null;
        const x = t.pauses.find((q) => q.after === d.percent && q.kind === d.kind);
        if (x) x.state = "done";
        break;
      }
      case "release.paused":
        paused = true;
        break;
      case "release.resumed":
        paused = false;
        break;
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
  const ended = isTerminal(phase);
  // An ended release waits for nothing (an abort during a wait may end it before wait.ended).
  if (ended) for (const x of all()) x.waiting = null;
  return { kind: release.kind, phase, targets: all(), ended, paused: paused && !ended };
}

/** The plan's `pause:` steps (ReleasePlan.pauses), read leniently: a plan stored before them has none. */
function plannedPauses(v: unknown): PauseProgress[] {
  if (!Array.isArray(v)) return [];
  return v.flatMap((p: { after?: unknown; pause?: unknown }): PauseProgress[] => {
    if (typeof p !== "object" || p === null || typeof p.after !== "number") return [];
    if (p.pause === "approve") return [{ after: p.after, kind: "approval", label: "approval", state: "pending" }];
    const ms = (p.pause as { ms?: unknown } | null)?.ms;
    return typeof ms === "number" ? [{ after: p.after, kind: "timer", label: `pause ${duration(ms)}`, state: "pending" }] : [];
  });
}

/** 90000 → "1m30s": a timed pause's length, short. */
export function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return `${h ? `${h}h` : ""}${m ? `${m}m` : ""}${r ? `${r}s` : ""}`;
}

function strOf(v: unknown): string | undefined {
  return typeof v === "string" && v.length > 0 ? v : undefined;
}

/** ` (canary analysis: pass)` when a gate's event carries the analysis verdict. */
function verdictOf(d: Record<string, unknown>): string {
  const v = strOf((d.analysis as { verdict?: unknown } | undefined)?.verdict);
  return v ? ` (canary analysis: ${v})` : "";
}

/** One line per event for the detail page's log. */
export function describe(e: StoredEvent): string {
  const d = e.data;
  const pct = typeof d.percent === "number" ? ` ${d.percent}%` : "";
  // A wait held before the target's first step says so, not "at 0%".
  const place = typeof d.percent === "number" ? waitPlace(d.percent, "at") : "at";
  const why = strOf(d.reason) ? `: ${d.reason}` : "";
  switch (e.type) {
    case "release.created":
      return "release created";
    case "release.target.uploaded":
      return `uploaded version ${strOf(d.versionId)?.slice(0, 8) ?? ""}`.trim();
    case "release.step.started":
      return `step${pct} started`;
    case "release.step.passed":
      return `step${pct} passed${verdictOf(d)}`;
    case "release.step.failed":
      return `step${pct} FAILED${why}${verdictOf(d)}`;
    case "release.rolling_back":
      return `rolling back${why}`;
    case "rollback.started":
      return `rollback to ${strOf(d.resolved) ?? "the previous versions"} started`;
    case "release.restore.pending":
      return `restore pending${strOf(d.versionId) ? ` (back to ${strOf(d.versionId)!.slice(0, 8)})` : ""}${why}`;
    case "release.restore.completed":
      return `restored${strOf(d.versionId) ? ` to ${strOf(d.versionId)!.slice(0, 8)}` : ""}`;
    case "release.waiting":
      return `waiting ${place}: ${strOf(d.reason) ?? strOf(d.kind) ?? ""}`;
    case "release.wait.ended":
      return `${strOf(d.kind) ?? "wait"} ${place} ended${strOf(d.by) ? ` by ${d.by}` : ""}`;
    case "release.paused":
      return `paused${strOf(d.by) ? ` by ${d.by}` : ""}${why}`;
    case "release.resumed":
      return `resumed${strOf(d.by) ? ` by ${d.by}` : ""}${why}`;
    case "release.promoted":
      return `promoted${strOf(d.by) ? ` by ${d.by}` : ""} (${strings(d.targets).join(", ") || "no target"})${why}`;
    case "release.unchanged":
      return `nothing to release${why}`;
    case "release.continued":
      return `goes on after a restart${why}`;
    default:
      return `${e.type.replace(/^(release|rollback)\./, "").replace(/_/g, " ")}${why}`;
  }
}
