// What a rollback does besides moving code, read from our records before any call, so that every
// preview (CLI, dashboard, MCP) says it exactly and the engine refuses what cannot or should not be
// done. Per target, against the version it goes to (V) and the release that uploaded V (R_V):
//
//   code        the version serving now -> V
//   secrets     per secret: the version pinned by what serves now -> the one V shipped with (and the
//               vault's current one); a downgrade (older than now) needs its own confirmation
//   config      the signed edge config is published apart from versions: a rollback leaves it as it
//               is (`cbo config rollback` moves it), and the preview says which version stays
//   D1          migrations applied by releases after R_V: the schema stays (forward only; `cbo d1
//               restore` is the explicit way back); a file marked `-- cbo:breaks-rollback` among
//               them refuses the rollback unless forced
//   DO          a Durable Object migration landed by a release after R_V: Cloudflare refuses to
//               deploy a version from before it (10238), so the rollback is refused before any call
// A V we did not upload has no R_V: its history is unknown and the preview says so.
import type { RollbackPreview, RollbackTargetPreview } from "../contract/index.ts";
import { CboError } from "../kit/errors.ts";
import type { Release, Store } from "../store/index.ts";
import { readDeployment } from "../targets/live-read.ts";
import type { TargetRuntime } from "../targets/types.ts";
import { d1Replay, replay } from "./journal.ts";
import { previousVersionOf } from "./plan.ts";
import type { RollbackPlan } from "./stored.ts";
import type { SecretSource } from "./types.ts";

const CF_10238 =
  "Cloudflare refuses to deploy a version from before a Durable Object migration (code 10238: a Worker cannot be rolled back or deployed to a version from before a Durable Object migration)";

export async function previewRollback(
  store: Store,
  plan: RollbackPlan,
  runtimes: Map<string, TargetRuntime>,
  secrets: SecretSource | undefined,
): Promise<RollbackPreview> {
  const records = store.releases.list({ worker: plan.worker, tenant: plan.tenant, limit: 1000 });
  const configs = new Map(store.configs.targets(plan.tenant, plan.worker).map((c) => [c.target, c.version]));
  const warnings: string[] = [];
  const targets: RollbackTargetPreview[] = [];
  for (const t of plan.targets) {
    const runtime = runtimes.get(t.name);
    const live = runtime ? await readDeployment(runtime, plan.worker).catch(() => undefined) : undefined;
    const from = live ? previousVersionOf(live) : null;
    const fromRow = from ? store.catalog.version(plan.tenant, t.name, from) : undefined;
    const toRow = store.catalog.version(plan.tenant, t.name, t.versionId);
    const names = [...new Set([...Object.keys(fromRow?.secrets?.secrets ?? {}), ...Object.keys(toRow?.secrets?.secrets ?? {})])].sort();
    const current = secrets && names.length > 0 ? secrets.describe(plan.tenant, names) : new Map<string, { version: number } | undefined>();
    const secretChanges = names.map((name) => {
      const a = fromRow?.secrets?.secrets[name] ?? null;
      const b = toRow?.secrets?.secrets[name] ?? null;
      const change: RollbackTargetPreview["secrets"][number]["change"] =
        a === null && b === null
          ? "unknown"
          : a === null
            ? "added"
            : b === null
              ? "removed"
              : b < a
                ? "downgrade"
                : b > a
                  ? "upgrade"
                  : "same";
      return { name, from: a, to: b, current: current.get(name)?.version ?? null, change };
    });
    const configVersion = configs.get(t.name) ?? null;
    const history = toRow?.release_id ? historyAfter(store, records, toRow.release_id, t.name) : undefined;
    if (!history)
      warnings.push(
        `${t.name}: version ${t.versionId} was not uploaded by a release of this orchestrator: which migrations are newer than it is unknown`,
      );
    targets.push({
      name: t.name,
      from,
      to: t.versionId,
      secrets: secretChanges,
      config: {
        version: configVersion,
        change: "none",
        note:
          configVersion === null
            ? "no signed config published: nothing to change"
            : `signed config v${configVersion} stays (published apart from versions; cbo config rollback moves it)`,
      },
      newerMigrations: history?.migrations ?? [],
      breaksRollback: history?.breaks ?? [],
      ...(history?.barrier ? { durableObjectBarrier: history.barrier } : {}),
    });
  }
  for (const t of targets) {
    for (const m of t.newerMigrations)
      warnings.push(
        `${t.name}: the schema of D1 ${m.database} stays as it is: ${m.files.join(", ")} (applied by release ${m.release}) ${m.files.length === 1 ? "is" : "are"} newer than ${t.to}; D1 migrations only go forward (cbo d1 restore is the explicit way back)`,
      );
    for (const s of t.secrets.filter((x) => x.change === "downgrade"))
      warnings.push(`${t.name}: secret ${s.name} goes back from v${s.from} to v${s.to} (the vault's current is v${s.current ?? "?"})`);
  }
  const barriers = targets.filter((t) => t.durableObjectBarrier);
  const refused =
    barriers.length > 0
      ? `${CF_10238}: ${barriers.map((t) => `on ${t.name}, release ${t.durableObjectBarrier!.release} applied Durable Object migration ${t.durableObjectBarrier!.oldTag ?? "(none)"} -> ${t.durableObjectBarrier!.newTag} after ${t.to}`).join("; ")}`
      : undefined;
  return {
    worker: plan.worker,
    to: plan.to,
    resolved: plan.resolved,
    targets,
    skipped: plan.skipped,
    warnings,
    ...(refused ? { refused } : {}),
    needs: {
      confirmSecretDowngrade: targets.some((t) => t.secrets.some((s) => s.change === "downgrade")),
      force: targets.some((t) => t.breaksRollback.length > 0),
    },
  };
}

/** The migrations releases after `releaseId` (newest first in `records`) landed on a target. */
function historyAfter(
  store: Store,
  records: Release[],
  releaseId: string,
  target: string,
): { migrations: RollbackTargetPreview["newerMigrations"]; breaks: string[]; barrier?: RollbackTargetPreview["durableObjectBarrier"] } {
  const at = records.findIndex((r) => r.id === releaseId);
  const newer = (at < 0 ? records : records.slice(0, at)).filter((r) => r.kind === "release").reverse();
  const migrations: RollbackTargetPreview["newerMigrations"] = [];
  const breaks: string[] = [];
  let barrier: RollbackTargetPreview["durableObjectBarrier"];
  for (const r of newer) {
    const entries = store.releases.entries(r.id);
    for (const d of d1Replay(entries).filter((x) => x.target === target && x.applied.length > 0)) {
      migrations.push({ database: d.database, files: d.applied, release: r.id });
      breaks.push(...d.breaksRollback.filter((f) => d.applied.includes(f)));
    }
    const t = replay(entries).get(target);
    // Landed: the upload was answered (a version id), whatever the release's end.
    if (!barrier && t?.migrated && t.versionId) {
      const e = entries.find((x) => x.target === target && x.kind === "uploaded");
      const m = (e?.data.migration ?? {}) as { oldTag?: string | null; newTag?: string };
      barrier = { release: r.id, oldTag: m.oldTag ?? null, newTag: m.newTag ?? "?" };
    }
  }
  return { migrations, breaks, ...(barrier ? { barrier } : {}) };
}

/** The engine's refusals, before any call: a Durable Object migration in the way, a secret downgrade or an incompatible schema unconfirmed. */
export function checkRollback(preview: RollbackPreview, opts: { confirmSecretDowngrade?: boolean; force?: boolean }): void {
  if (preview.refused) {
    throw new CboError("ERR_CONFLICT", `Cannot roll ${preview.worker} back to ${preview.resolved}: ${preview.refused}.`, {
      details: { worker: preview.worker, targets: preview.targets.filter((t) => t.durableObjectBarrier).map((t) => t.name) },
      hint: "Roll back to a version released after that migration, or fix forward with a new release.",
    });
  }
  if (preview.needs.force && opts.force !== true) {
    const files = [...new Set(preview.targets.flatMap((t) => t.breaksRollback))];
    throw new CboError(
      "ERR_CONFIRMATION_REQUIRED",
      `Rolling ${preview.worker} back to ${preview.resolved} puts code on a schema it cannot run on: ${files.join(", ")} ${files.length === 1 ? "is" : "are"} marked -- cbo:breaks-rollback and stay applied.`,
      {
        details: { worker: preview.worker, files, needs: "force" },
        hint: "Fix forward with a new release, restore the database first (cbo d1 restore), or roll back anyway with --force.",
      },
    );
  }
  if (preview.needs.confirmSecretDowngrade && opts.confirmSecretDowngrade !== true) {
    const downs = preview.targets.flatMap((t) =>
      t.secrets.filter((s) => s.change === "downgrade").map((s) => `${s.name} v${s.from} -> v${s.to} on ${t.name}`),
    );
    throw new CboError(
      "ERR_CONFIRMATION_REQUIRED",
      `Rolling ${preview.worker} back to ${preview.resolved} pins older secret versions: ${downs.join(", ")}.`,
      {
        details: { worker: preview.worker, downgrades: downs, needs: "confirm_secret_downgrade" },
        hint: "If the older secret is what you want, confirm with --confirm-secret-downgrade (API: confirm_secret_downgrade: true).",
      },
    );
  }
}
