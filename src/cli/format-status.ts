// `cbo status` for people: one row per worker and target with what is live (and at what share),
// its health and (when the daemon checks drift) its drift; then what each drift is, each restore
// still pending, and each worker's last release with its reason, which are too long for a column.
import {
  DriftSchema,
  ReleaseControlSchema,
  RestorePendingSchema,
  waitPlace,
  type DriftSummary,
  type Release,
  type ReleaseControl,
  type RestoreSummary,
  type Status,
} from "../contract/index.ts";
import { ago, percent, table, type Paint } from "./table.ts";

type StatusTarget = Status["workers"][number]["targets"][number];
type Drift = DriftSummary;
type Restore = RestoreSummary;

// Read again with the contract's schemas, defensively: formatting never trusts a shape it was
// handed (a daemon without drift checks sends no `drift`; an odd one prints as "-").
function restoreOf(t: StatusTarget): Restore | undefined {
  const parsed = RestorePendingSchema.safeParse(t.restore);
  return parsed.success ? parsed.data : undefined;
}

/** "hello/eu  back to v1 for release r2: 3 attempts since 2 min ago, next in 12 s; last: ERR_…". */
export function restoreText(worker: string, target: string, r: Restore, paint: Paint, now: number = Date.now()): string {
  const to = r.waitingFor ? `rollback waits for ${r.waitingFor}` : r.versionId ? `back to ${r.versionId}` : "back to its previous version";
  const next = r.nextAttemptAt ? Math.max(0, Math.round((Date.parse(r.nextAttemptAt) - now) / 1000)) : undefined;
  const when = [
    `${r.attempts} attempt${r.attempts === 1 ? "" : "s"} since ${ago(r.since, now)}`,
    ...(next !== undefined && Number.isFinite(next) ? [`next in ${next} s`] : []),
  ].join(", ");
  return `  ${worker}/${target}  ${to} for release ${r.releaseId}: ${when}${r.lastError ? paint.dim(`; last: ${r.lastError}`) : ""}`;
}

function controlOf(w: Status["workers"][number]): ReleaseControl | undefined {
  const parsed = ReleaseControlSchema.safeParse((w as { control?: unknown }).control);
  return parsed.success && (parsed.data.paused || parsed.data.waiting.length > 0) ? parsed.data : undefined;
}

const WAIT_WORDS: Readonly<Record<string, string>> = {
  approval: "approval",
  timer: "timed pause",
  manual: "paused",
  data: "analytics",
};

/** "hello/eu  release R at step 50%: waits for approval (npx cbo release promote R)", and the release's pause. */
export function waitLines(worker: string, id: string, c: ReleaseControl, paint: Paint, now: number = Date.now()): string[] {
  const lines = c.waiting.map((x) => {
    const what =
      x.kind === "approval"
        ? `waits for approval (cbo release promote ${id})`
        : x.kind === "timer"
          ? `in a timed pause${x.until ? ` until ${x.until}` : ""} (cbo release promote ${id} ends it)`
          : x.kind === "manual"
            ? `held by the release's pause (cbo release resume ${id})`
            : "waits for analytics it cannot see yet";
    return `  ${worker}/${x.target}  release ${id} ${waitPlace(x.percent)}: ${what}${paint.dim(` since ${ago(x.since, now)}`)}`;
  });
  if (c.paused) lines.unshift(`  ${worker}  release ${id} paused${c.pausedBy ? ` by ${c.pausedBy}` : ""} (cbo release resume ${id})`);
  return lines;
}

function driftOf(t: StatusTarget): Drift | null | undefined {
  if (t.drift === undefined) return undefined;
  const parsed = DriftSchema.nullable().safeParse(t.drift);
  return parsed.success ? parsed.data : undefined;
}

export function driftText(d: Drift | null | undefined, paint: Paint): string {
  if (!d) return paint.dim("-");
  switch (d.status) {
    case "in_sync":
      return paint.ok("in sync");
    case "drifted":
      return paint.bad(`DRIFT ${d.kinds.join(",")}`);
    default:
      return paint.dim(d.status);
  }
}

export function liveText(live: Array<{ versionId: string; percentage: number }>): string {
  if (live.length === 0) return "(not deployed)";
  return live.map((v) => `${v.versionId} ${percent(v.percentage)}`).join(" + ");
}

export function releaseText(r: Release | null | undefined, paint: Paint, now?: number): string {
  if (!r) return "no release yet";
  const colour = r.status === "succeeded" ? paint.ok : r.status === "running" || r.status === "rolling_back" ? paint.warn : paint.bad;
  const kind = r.kind === "release" ? "release" : r.kind;
  return `${kind} ${r.id} ${colour(r.status)} ${paint.dim(ago(r.created_at, now))}${r.reason ? `: ${r.reason}` : ""}`;
}

function healthText(h: Status["workers"][number]["targets"][number]["health"], paint: Paint): string {
  if (!h) return paint.dim("unknown");
  const status = h.status === "healthy" ? paint.ok(h.status) : h.status === "unhealthy" ? paint.bad(h.status) : paint.warn(h.status);
  return typeof h.latencyMs === "number" ? `${status} ${Math.round(h.latencyMs)} ms` : status;
}

export function formatStatus(s: Status, paint: Paint, now?: number): string {
  const targets = s.targets.map((t) => t.name).join(", ") || "none";
  const head = `tenant ${s.tenant}: ${s.targets.length} target${s.targets.length === 1 ? "" : "s"} (${targets}), ${s.workers.length} worker${s.workers.length === 1 ? "" : "s"}`;
  if (s.workers.length === 0) return `${head}\n`;
  const rows: string[][] = [];
  const unobserved = new Set<string>();
  const withDrift = s.workers.some((w) => w.targets.some((t) => t.drift !== undefined));
  const drifts: string[] = [];
  const restores: string[] = [];
  const stale: string[] = [];
  const waits: string[] = [];
  for (const w of s.workers) {
    const control = controlOf(w);
    if (control && w.lastRelease) waits.push(...waitLines(w.name, w.lastRelease.id, control, paint, now));
    if (w.targets.length === 0) rows.push([w.name, "-", "-", "-", ...(withDrift ? ["-"] : [])]);
    w.targets.forEach((t, i) => {
      let live = liveText(t.live);
      if (t.live.length === 0 && t.liveError) {
        live = paint.warn("(not observed)");
        unobserved.add(t.liveError);
      }
      const drift = driftOf(t);
      const restore = restoreOf(t);
      // A split that stays because the release waits there says so in its row.
      const wait = control?.waiting.find((x) => x.target === t.target);
      if (wait && wait.kind !== "data") live = `${live} ${paint.warn(`(waits: ${WAIT_WORDS[wait.kind]})`)}`;
      if (restore) {
        live = `${live} ${paint.warn("(restore pending)")}`;
        restores.push(restoreText(w.name, t.target, restore, paint, now));
      }
      rows.push([i === 0 ? w.name : "", t.target, live, healthText(t.health, paint), ...(withDrift ? [driftText(drift, paint)] : [])]);
      for (const x of (t as { staleSecrets?: Array<{ name: string; pinned: number; current: number }> }).staleSecrets ?? [])
        stale.push(`  ${w.name}/${t.target}  ${x.name} pinned at v${x.pinned}, the vault's current is v${x.current}`);
      if (drift?.status === "drifted") {
        const extra = [drift.since ? `since ${ago(drift.since, now)}` : "", drift.revert ?? ""].filter(Boolean).join("; ");
        drifts.push(`  ${w.name}/${t.target}  ${drift.detail}${extra ? paint.dim(` (${extra})`) : ""}`);
      }
    });
  }
  const width = Math.max(...s.workers.map((w) => w.name.length));
  const lines = [
    head,
    "",
    table(rows, ["WORKER", "TARGET", "LIVE", "HEALTH", ...(withDrift ? ["DRIFT"] : [])]),
    ...[...unobserved].map((e) => paint.warn(`live versions not observed: ${e}`)),
    ...(drifts.length > 0 ? ["", paint.bad("drift:"), ...drifts] : []),
    ...(stale.length > 0
      ? ["", paint.warn("secrets older than current (a release ships the current ones; a rollback pinned these):"), ...stale]
      : []),
    ...(restores.length > 0
      ? ["", paint.warn("restore pending (the daemon retries until the region takes it; the release ends then):"), ...restores]
      : []),
    ...(waits.length > 0 ? ["", paint.warn("releases waiting (traffic stays where it is until they go on):"), ...waits] : []),
    "",
    "last release:",
    ...s.workers.map((w) => `  ${w.name.padEnd(width)}  ${releaseText(w.lastRelease, paint, now)}`),
  ];
  return lines.join("\n") + "\n";
}
