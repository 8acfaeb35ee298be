// `cbo status` for people: one row per worker and target with what is live (and at what share)
// and its health; then each worker's last release with its reason, which is too long for a column.
import type { ApiRelease, ApiStatus } from "./api-schemas.ts";
import { ago, percent, table, type Paint } from "./table.ts";

export function liveText(live: Array<{ versionId: string; percentage: number }>): string {
  if (live.length === 0) return "(not deployed)";
  return live.map((v) => `${v.versionId} ${percent(v.percentage)}`).join(" + ");
}

export function releaseText(r: ApiRelease | null | undefined, paint: Paint, now?: number): string {
  if (!r) return "no release yet";
  const colour = r.status === "succeeded" ? paint.ok : r.status === "running" || r.status === "rolling_back" ? paint.warn : paint.bad;
  const kind = r.kind === "release" ? "release" : r.kind;
  return `${kind} ${r.id} ${colour(r.status)} ${paint.dim(ago(r.created_at, now))}${r.reason ? `: ${r.reason}` : ""}`;
}

function healthText(h: ApiStatus["workers"][number]["targets"][number]["health"], paint: Paint): string {
  if (!h) return paint.dim("unknown");
  const status = h.status === "healthy" ? paint.ok(h.status) : h.status === "unhealthy" ? paint.bad(h.status) : paint.warn(h.status);
  return typeof h.latencyMs === "number" ? `${status} ${Math.round(h.latencyMs)} ms` : status;
}

export function formatStatus(s: ApiStatus, paint: Paint, now?: number): string {
  const targets = s.targets.map((t) => t.name).join(", ") || "none";
  const head = `tenant ${s.tenant}: ${s.targets.length} target${s.targets.length === 1 ? "" : "s"} (${targets}), ${s.workers.length} worker${s.workers.length === 1 ? "" : "s"}`;
  if (s.workers.length === 0) return `${head}\n`;
  const rows: string[][] = [];
  const unobserved = new Set<string>();
  for (const w of s.workers) {
    if (w.targets.length === 0) rows.push([w.name, "-", "-", "-"]);
    w.targets.forEach((t, i) => {
      let live = liveText(t.live);
      if (t.live.length === 0 && t.liveError) {
        live = paint.warn("(not observed)");
        unobserved.add(t.liveError);
      }
      rows.push([i === 0 ? w.name : "", t.target, live, healthText(t.health, paint)]);
    });
  }
  const width = Math.max(...s.workers.map((w) => w.name.length));
  const lines = [
    head,
    "",
    table(rows, ["WORKER", "TARGET", "LIVE", "HEALTH"]),
    ...[...unobserved].map((e) => paint.warn(`live versions not observed: ${e}`)),
    "",
    "last release:",
    ...s.workers.map((w) => `  ${w.name.padEnd(width)}  ${releaseText(w.lastRelease, paint, now)}`),
  ];
  return lines.join("\n") + "\n";
}
