// The read-only tools: status, plan, config diff, audit search. They change nothing, so they need
// no confirmation; the agent uses them to show the user what a mutation would do.
import * as z from "zod";
import { CboError } from "../kit/errors.ts";
import { formatConfigChange, type ReleasePlan, type Status, type WorkerDiff } from "../contract/index.ts";
import { compactAudit, compactConfigDiff, compactStatus } from "./compact.ts";
import { defineTool, done, WorkerName, type AnyTool } from "./tool.ts";

type Live = Array<{ versionId: string; percentage: number }>;
/** Whole version ids: an agent copies what it reads into rollback's `to`, which takes no prefix. */
export const liveText = (live: Live) =>
  live.length === 0 ? "not deployed" : live.map((l) => `${l.versionId} ${l.percentage}%`).join(" + ");

export const status = defineTool({
  name: "status",
  title: "Fleet status",
  description:
    "Per worker and target: the versions live now with their traffic percentages, health, drift, and the last release. Read-only.",
  input: z.object({ worker: WorkerName.optional().describe("Only this worker (default: all)") }).strict(),
  mutating: false,
  async run({ worker }, { api }) {
    const parsed = await api.status();
    const workers = worker ? parsed.workers.filter((w) => w.name === worker) : parsed.workers;
    if (worker && workers.length === 0) {
      throw new CboError("ERR_NOT_FOUND", `No worker named "${worker}".`, {
        hint: `Known workers: ${parsed.workers.map((w) => w.name).join(", ") || "none"}.`,
      });
    }
    const lines = workers.flatMap((w) => [
      `${w.name}: last release ${w.lastRelease ? `${w.lastRelease.id} ${w.lastRelease.kind} ${w.lastRelease.status}${w.lastRelease.reason ? ` (${w.lastRelease.reason})` : ""}` : "none"}`,
      ...w.targets.map((t) => `  ${t.target}: ${liveText(t.live)}${healthText(t)}${driftText(t)}`),
    ]);
    return done(lines.join("\n") || "No workers are declared.", compactStatus({ ...parsed, workers }));
  },
});

type TargetStatus = Status["workers"][number]["targets"][number];

function healthText(t: TargetStatus): string {
  return t.health ? `, health ${t.health.status}` : t.liveError ? `, unreadable: ${t.liveError}` : "";
}

function driftText(t: TargetStatus): string {
  const stale = t.staleSecrets?.length
    ? `, older secrets: ${t.staleSecrets.map((x) => `${x.name}@${x.pinned} (vault ${x.current})`).join(", ")}`
    : "";
  return `${t.drift?.status === "drifted" ? `, DRIFT: ${t.drift.detail}` : ""}${t.restore ? ", rollback owed" : ""}${stale}`;
}

export const plan = defineTool({
  name: "plan",
  title: "Preview a release",
  description:
    "What releasing a worker would do: first what it would change on each target (as the diff tool says; nothing: it would end unchanged), then the targets and what they run now, waves (canary first), traffic steps, the gate, API calls, and the secret versions each target ships. Read-only: show it to the user before asking to release.",
  input: z.object({ worker: WorkerName }).strict(),
  mutating: false,
  async run({ worker }, { api }) {
    const p = await api.plan(worker);
    // The diff first, as `cbo plan` prints it: a plan alone reads as a release to run even when
    // every target already runs this (the release would end `unchanged`).
    return done([...(p.diff ? [diffText(p.diff)] : []), planText(p)].join("\n"), p);
  },
});

export function planText(
  p: Pick<ReleasePlan, "worker" | "waves" | "steps" | "targets"> &
    Partial<Pick<ReleasePlan, "apiCalls" | "nonGradual" | "pauses" | "secrets" | "warnings">>,
): string {
  const ng = p.nonGradual;
  const pauses = (p.pauses ?? []).map(
    (x) =>
      `after ${x.after}% ${x.pause === "approve" ? "wait for approval (release_control promote)" : `wait ${Math.round(x.pause.ms / 1000)} s`}`,
  );
  return [
    `Release ${p.worker} in ${p.waves.length} wave(s): ${p.waves.map((w) => `[${w.join(", ")}]`).join(" then ")}, steps ${p.steps.join("% → ")}%, each step gated.`,
    ...(pauses.length ? [`  Pauses: ${pauses.join("; ")}.`] : []),
    ...(ng
      ? [
          `NOT GRADUAL on ${ng.targets.join(", ")}: ${ng.reason}. Needs allow_non_gradual: true${ng.deletesClasses.length > 0 ? `, and confirm_class_deletion: true (deletes or renames ${ng.deletesClasses.join(", ")})` : ""}.`,
        ]
      : []),
    ...p.targets.flatMap((t) => [
      `  ${t.name}: now ${liveText(t.live)}`,
      ...(t.d1Migrations ?? []).map((d) => `    D1 ${d.database}: before any traffic shifts, bookmark then apply ${d.pending.join(", ")}`),
      ...(t.d1Contract ?? []).map((d) => `    D1 ${d.database}: after the last gate of every target, contract ${d.pending.join(", ")}`),
      ...(p.secrets ?? [])
        .filter((x) => x.target === t.name)
        .map((x) => `    secret ${x.name}@${x.version} (${x.mode})${x.delivered ? "" : ` WITHHELD: ${x.reason ?? "not delivered"}`}`),
    ]),
    ...(p.apiCalls === undefined ? [] : [`  about ${p.apiCalls} Cloudflare API calls`]),
    // What wrangler would warn about (a binding an environment drops, a _redirects line Cloudflare
    // skips): `cbo plan` prints these, and an agent shows this text to the user before a release.
    ...(p.warnings ?? []).map((w) => `  Warning: ${w}`),
  ].join("\n");
}

export const diff = defineTool({
  name: "diff",
  title: "Diff a worker against what runs",
  description:
    "Per target, what releasing a worker would change against what the target runs now: code (modules), bindings, vars, compatibility, secrets (name@version, never values), config, assets, crons, routes, consumers, settings; and drift (a live version the orchestrator never uploaded). Read-only.",
  input: z.object({ worker: WorkerName }).strict(),
  mutating: false,
  async run({ worker }, { api }) {
    const d = await api.diff(worker);
    return done(diffText(d), d);
  },
});

export function diffText(d: WorkerDiff): string {
  const lines = [
    d.changed ? `Releasing ${d.worker} would change:` : `Releasing ${d.worker} would change nothing (it would end unchanged).`,
  ];
  for (const t of d.targets) {
    if (t.drift) lines.push(`  ${t.target}: DRIFT, runs ${t.unknownVersions.join(", ")}, not uploaded by the orchestrator`);
    for (const c of t.changes)
      lines.push(
        `  ${t.target}: ${c.change} ${c.area} ${c.item}${c.live !== undefined || c.desired !== undefined ? ` (${c.live ?? "-"} -> ${c.desired ?? "-"})` : ""}`,
      );
  }
  return lines.join("\n");
}

export const configDiff = defineTool({
  name: "config_diff",
  title: "Edge config diff",
  description:
    "Per target: the signed config last published, the one orchestrator.yaml wants, whether it changed, and whether the agents run it. Read-only.",
  input: z.object({ worker: WorkerName }).strict(),
  mutating: false,
  async run({ worker }, { api }) {
    const diff = await api.configDiff(worker);
    const changed = diff.filter((d) => d.changed);
    // Each changed key with its published and desired value (secret-looking keys masked by the daemon).
    const lines = changed.flatMap((d) => d.changes.map((c) => `  ${d.target}: ${formatConfigChange(c)}`));
    return done(
      changed.length
        ? [`Config of ${worker} differs from the published one on ${changed.map((d) => d.target).join(", ")}:`, ...lines].join("\n")
        : `Config of ${worker} is published as desired on every target.`,
      diff.map(compactConfigDiff),
    );
  },
});

export const auditSearch = defineTool({
  name: "audit_search",
  title: "Search the audit log",
  description:
    "Audit entries matching the filters, newest first: who changed what, when, with what outcome. Read-only (the token's role must allow reading the log).",
  input: z
    .object({
      actor: z.string().min(1).optional().describe('Exact actor, e.g. "token:clawdbot:<id>"'),
      action: z.string().min(1).optional().describe('Exact action, or a prefix ending in "*": "release.*"'),
      target: z.string().min(1).optional().describe('e.g. "worker:ads-api", "secret:STRIPE_KEY"'),
      outcome: z.enum(["ok", "denied", "error"]).optional(),
      since: z.iso
        .datetime({ offset: true })
        .optional()
        .describe('ISO 8601 date and time, inclusive, e.g. "2026-01-01T00:00:00Z" (for "yesterday", compute it from today\'s date)'),
      until: z.iso.datetime({ offset: true }).optional().describe('ISO 8601 date and time, inclusive, e.g. "2026-01-01T23:59:59Z"'),
      text: z.string().min(1).max(200).optional().describe("Case-insensitive substring of actor, action, target or details"),
      limit: z.number().int().min(1).max(500).optional().describe("At most this many (default 50)"),
      cursor: z.string().min(1).max(2000).optional().describe("The previous answer's `next`, for the following (older) page"),
    })
    .strict(),
  mutating: false,
  async run(q, { api }) {
    const page = await api.audit({ ...q, limit: q.limit ?? 50 });
    const entries = page.items.map(compactAudit);
    const lines = entries.map((e) => `  #${e.seq} ${e.at} ${e.actor} ${e.action}${e.target ? ` ${e.target}` : ""} ${e.outcome}`);
    const more = page.next ? [`More (older): call audit_search again with the same filters and cursor "${page.next}".`] : [];
    // The data stays the list of entries; the next page's cursor is in the summary.
    return done(
      [`${entries.length} audit entr${entries.length === 1 ? "y" : "ies"}, newest first:`, ...lines, ...more].join("\n"),
      entries,
    );
  },
});

export const READ_TOOLS: AnyTool[] = [status, plan, diff, configDiff, auditSearch];
