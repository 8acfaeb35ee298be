// One human line per event, for `cbo events` and the live progress of `cbo release`. The event
// data is read defensively (a field the engine does not send is left out, never printed as
// "undefined"), so a daemon that adds fields or event types does not break the CLI.
import { type AnyEvent, waitPlace } from "../contract/index.ts";
import { asInvoked } from "./invocation.ts";
import { percent, type Paint } from "./table.ts";

type Data = Record<string, unknown>;

function pick<T>(data: Data, keys: string[], is: (v: unknown) => v is T): T | undefined {
  const nested = [data, data.gate, data.result, data.stats].filter((d): d is Data => typeof d === "object" && d !== null);
  for (const d of nested) for (const k of keys) if (is(d[k])) return d[k];
  return undefined;
}
const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const isStr = (v: unknown): v is string => typeof v === "string" && v.length > 0;

const num = (d: Data, ...keys: string[]) => pick(d, keys, isNum);
const str = (d: Data, ...keys: string[]) => pick(d, keys, isStr);

/** "(12 samples, 1 error, 8.3% errors)" from whatever gate figures the event carries. */
export function gateFigures(data: Data): string {
  const parts: string[] = [];
  const samples = num(data, "samples", "sampleCount", "probes");
  const errors = num(data, "errors", "errorCount", "failures", "failed");
  const rate = num(data, "errorRate", "error_rate");
  if (samples !== undefined) parts.push(`${samples} sample${samples === 1 ? "" : "s"}`);
  if (errors !== undefined) parts.push(`${errors} error${errors === 1 ? "" : "s"}`);
  if (rate !== undefined) parts.push(`${percent(Math.round(rate * 1000) / 10)} error rate`);
  return parts.length ? ` (${parts.join(", ")})` : "";
}

const versionOf = (d: Data) => str(d, "versionId", "version", "toVersionId");
const reasonOf = (d: Data) => str(d, "reason", "error", "message", "detail");
const stepOf = (d: Data) => num(d, "percent", "percentage", "step");

/**
 * The event's meaning in a few words, without its target, worker or time. The engine's reasons name
 * commands as `cbo …` (e.g. "paused: cbo release resume <id>"): said here as they run (asInvoked).
 */
export function describeEvent(e: Pick<AnyEvent, "type" | "data">, paint?: Paint): string {
  return asInvoked(describeRaw(e, paint));
}

function describeRaw(e: Pick<AnyEvent, "type" | "data">, paint?: Paint): string {
  const p = paint ?? { ok: String, bad: String, warn: String, dim: String, bold: String };
  const d = e.data ?? {};
  const step = stepOf(d);
  const stepText = step === undefined ? "step" : `step ${percent(step)}`;
  // A wait held before the target's first step says so, not "at step 0%".
  const waitText = step === undefined ? "at step" : waitPlace(step);
  const reason = reasonOf(d);
  const because = reason ? `: ${reason}` : "";
  const version = versionOf(d);
  switch (e.type) {
    case "release.created": {
      const calls = num(d, "apiCalls");
      return `release created${calls === undefined ? "" : ` (${calls} Cloudflare API calls planned)`}`;
    }
    case "release.target.uploaded":
      return `uploaded${version ? ` version ${version}` : ""}`;
    case "release.phase.done": {
      const summary = str(d, "summary");
      return `${str(d, "phase") ?? "phase"}${summary ? `: ${summary}` : " done"}`;
    }
    case "release.step.started":
      return `${stepText} started`;
    case "release.step.passed":
      return `${stepText} ${p.ok("passed")}${gateFigures(d)}`;
    case "release.step.failed":
      return `${stepText} ${p.bad("FAILED")}${because}${gateFigures(d)}`;
    case "release.rolling_back": {
      const targets = Array.isArray(d.targets) ? ` ${d.targets.join(", ")}` : "";
      return `${p.warn("rolling back")}${targets}${because}`;
    }
    case "release.unchanged":
      return p.ok("release unchanged: every target already runs what the spec says");
    case "release.succeeded":
      return p.ok("release succeeded");
    case "release.rolled_back":
      return `${p.bad("release rolled back")}${because}`;
    case "release.failed":
      return `${p.bad("release failed")}${because}`;
    case "release.aborted":
      return `${p.warn("release aborted")}${because}`;
    // Release control (approvals, pauses): what a follower of `cbo release` sees while it waits.
    case "release.waiting":
      return `${p.warn("waiting")} ${waitText}${because}`;
    case "release.budget.waiting": {
      const waited = num(d, "waitMs");
      return `${p.warn("waiting for Cloudflare request budget")}${waited === undefined ? "" : `, ~${Math.max(1, Math.ceil(waited / 1000))} s`}`;
    }
    case "release.cloudflare.retrying":
      return `${p.warn("retrying")} ${str(d, "reason") ?? "a Cloudflare API request"}`;
    case "release.wait.ended": {
      const waited = num(d, "waitedMs");
      const by = str(d, "by");
      return `${str(d, "kind") ?? "wait"} ${waitText} ended${by ? ` by ${by}` : ""}${waited === undefined ? "" : ` after ${(waited / 1000).toFixed(1)} s`}`;
    }
    case "release.paused":
    case "release.resumed":
    case "release.promoted": {
      const by = str(d, "by");
      const targets = Array.isArray(d.targets) ? d.targets.filter(isStr) : [];
      const verb = e.type.slice("release.".length);
      return `${verb}${by ? ` by ${by}` : ""}${targets.length ? ` (${targets.join(", ")})` : ""}${because}`;
    }
    case "release.recovered":
      return `recovered after a restart${because}`;
    case "release.continued":
      return `goes on after a restart${because}`;
    case "release.restore.pending":
      return `${p.warn("restore pending")}${version ? `: back to ${version} once it answers; retrying` : ": retrying until it answers"}${because}`;
    case "release.restore.completed": {
      const attempts = num(d, "attempts");
      return `${p.ok("restored")}${version ? ` to ${version}` : ""}${attempts === undefined ? "" : ` after ${attempts} attempt${attempts === 1 ? "" : "s"}`}`;
    }
    case "rollback.started": {
      const to = str(d, "resolved") ?? (version ? `version ${version}` : undefined);
      return `rollback${to ? ` to ${to}` : ""} started`;
    }
    case "rollback.completed":
      return `${p.ok("rollback completed")}${because}`;
    case "rollback.failed":
      return `${p.bad("rollback failed")}${because}`;
    case "health.changed": {
      const from = str(d, "from") ?? "?";
      const to = str(d, "to") ?? "?";
      const colour = to === "healthy" ? p.ok : to === "unhealthy" ? p.bad : p.warn;
      const latency = num(d, "latencyMs");
      const extra = [version ? `version ${version}` : "", latency !== undefined ? `${latency} ms` : ""].filter(Boolean).join(", ");
      return `health ${from} -> ${colour(to)}${extra ? ` (${extra})` : ""}${because}`;
    }
    case "drift.detected": {
      const kinds = Array.isArray(d.kinds) ? d.kinds.filter(isStr) : [];
      return `${p.bad("drift detected")}${kinds.length ? ` (${kinds.join(", ")})` : ""}${because}`;
    }
    case "drift.resolved":
      return `${p.ok("drift resolved")}${d.reverted === true ? " after a revert" : ""}`;
    case "drift.reverted": {
      const to = str(d, "to") ?? version;
      return `${p.warn("drift reverted")}${to ? `: ${to} deployed again` : ""}`;
    }
    case "drift.revert.failed":
      return `${p.bad("drift not reverted")}${because}`;
    default: {
      const keys = Object.keys(d);
      return `${e.type}${keys.length ? ` ${JSON.stringify(d)}` : ""}`;
    }
  }
}
