// A stopped release's rollback: every touched target back on the version it served before, in
// parallel (seconds, not minutes). A target that cannot be put back yet (its region out, a 5xx, a
// journal the store refuses) stays owed and is retried until it lands (owed.ts); the release stays
// `rolling_back` meanwhile and ends only when every touched target has an answer:
//   every one back on its previous version               ──> rolled_back (aborted, if aborted)
//   one refused for good, or a first deploy kept (nothing earlier to serve) ──> failed
//   the daemon stops meanwhile                           ──> unchanged, for the next start's recovery
import type { Release } from "../store/index.ts";
import type { ApplyContext, Progress } from "./apply-context.ts";
import { J } from "./journal.ts";
import { migrationLanded } from "./migration-landed.ts";
import { describeSchemaLeft, settleUnansweredD1, type UnreadableD1 } from "./d1-recover.ts";
import { backoffDelay, sleep } from "../kit/backoff.ts";
import { readDeployment } from "../targets/live-read.ts";
import { DEFAULT_RESTORE_BACKOFF, finishRecorded, untilRestored, type OwedContext } from "./owed.ts";
import { describeError } from "./record.ts";
import { restoreTarget } from "./restore-target.ts";
import { restoreSettings } from "./target-phases.ts";
import type { ReleaseStop } from "./stop.ts";

type Outcome = { name: string; ok: boolean; kept: boolean; text: string };

export async function rollBackTouched(ctx: ApplyContext, stop: ReleaseStop, touched: Map<string, Progress>): Promise<Release> {
  const { rec } = ctx;
  const names = [...touched.keys()];
  // What the store cannot take now does not hold the rollback up: the edge comes first.
  rec.tryTo(() => rec.status("rolling_back", stop.message));
  rec.tryTo(() => rec.emit("release.rolling_back", null, { reason: stop.message, kind: stop.kind, targets: names }));
  const owed: OwedContext = {
    rec,
    release: ctx.release,
    board: ctx.board,
    halt: ctx.halt,
    ...(ctx.restoreBackoff ? { backoff: ctx.restoreBackoff } : {}),
  };
  const settled = await Promise.allSettled(names.map((name) => rollBackOne(ctx, owed, name, touched.get(name)!)));
  await settleD1(ctx, owed);
  if (ctx.halt.aborted) {
    rec.log("halted while rolling back; the next start recovers it from the journal");
    return ctx.store.releases.get(ctx.release.id)!;
  }
  const outcomes = settled.map(
    (s, i): Outcome =>
      s.status === "fulfilled" ? s.value : { name: names[i]!, ok: false, kept: false, text: `${names[i]}: ${describeError(s.reason)}` },
  );
  const untouched = ctx.plan.targets.map((t) => t.name).filter((n) => !touched.has(n));
  const schema = describeSchemaLeft(ctx.store.releases.entries(ctx.release.id), ctx.release.id);
  const summary = [
    outcomes.length === 0 ? (schema ? "no traffic was shifted" : "no target was changed") : outcomes.map((o) => o.text).join(", "),
    ...(untouched.length > 0 ? [`${schema ? "code untouched" : "untouched"}: ${untouched.join(", ")}`] : []),
    ...(schema ? [schema] : []),
  ].join("; ");
  const reason = `${stop.message}; ${summary}`;
  const data = { reason, targets: outcomes.map((o) => ({ target: o.name, ok: o.ok })), untouched };
  const read = () => ctx.store.releases.get(ctx.release.id)!;
  // A target that could not go back, or had nothing to go back to (its first deploy failed its
  // gate and still serves the new version), makes the release `failed`, never `rolled_back`:
  // that status promises every touched target serves what it served before.
  if (outcomes.some((o) => !o.ok || o.kept))
    return finishRecorded(owed, { status: "failed", reason, events: [["release.failed", data]] }, read);
  const status = stop.kind === "abort" ? "aborted" : "rolled_back";
  return finishRecorded(owed, { status, reason, events: [[status === "aborted" ? "release.aborted" : "release.rolled_back", data]] }, read);
}

async function rollBackOne(ctx: ApplyContext, owed: OwedContext, name: string, p: Progress): Promise<Outcome> {
  const code = await rollBackCode(ctx, owed, name, p);
  if (!code.ok || !p.settings || p.settings.before === null) return code;
  // The code is back: the script settings the release changed go back too (crons, routes, consumers…).
  try {
    await restoreSettings(ctx.rec, ctx.worker.name, name, ctx.runtimes.get(name)!, p.settings);
    return { ...code, text: `${code.text}, settings ${p.settings.keys.join(", ")} restored` };
  } catch (e) {
    ctx.rec.tryTo(() => ctx.rec.journal(J.rollbackFailed, name, { stage: "settings-restore", error: describeError(e) }));
    return {
      ...code,
      ok: false,
      text: `${code.text}, but its settings ${p.settings.keys.join(", ")} could not be restored: ${describeError(e)}`,
    };
  }
}

async function rollBackCode(ctx: ApplyContext, owed: OwedContext, name: string, p: Progress): Promise<Outcome> {
  const { rec, worker } = ctx;
  const runtime = ctx.runtimes.get(name)!;
  if (p.migrated && p.versionId !== null) {
    // Cloudflare deploys no version from before a Durable Object migration (10238): the target
    // keeps the new version, and the release says so (it ends failed, never rolled_back).
    const why = `Durable Object migration ${p.migrated.oldTag ?? "(none)"} -> ${p.migrated.newTag} applied: no version from before it can be deployed`;
    return { name, ok: true, kept: true, text: `${name} stays on ${p.versionId} (${why})` };
  }
  if (p.migrated && p.versionId === null) {
    // The PUT's answer never came: if its migration landed, the target keeps the new code, as above.
    const m = await migrationLanded(runtime, worker.name, p.migrated.newTag).catch((e: unknown) => e as Error);
    if (m instanceof Error)
      return { name, ok: false, kept: false, text: `${name}: its Durable Object migration tag could not be read: ${describeError(m)}` };
    if (m.landed) {
      const why = `Durable Object migration ${p.migrated.oldTag ?? "(none)"} -> ${p.migrated.newTag} landed though its answer was lost: no version from before it can be deployed`;
      return { name, ok: true, kept: true, text: `${name} stays on ${m.serving ?? "the new version"} (${why})` };
    }
  }
  // A first deploy has nothing earlier to serve: it stays on the new version, at 100%.
  const to = p.previousVersionId ?? p.versionId;
  const note = p.previousVersionId === null ? "no previous version: keeps serving the new version" : undefined;
  if (to === null) {
    // The first upload's answer never came: whatever it created is all there is to serve.
    const live = await readDeployment(runtime, worker.name).catch(() => undefined);
    const serving = live?.[0]?.versionId;
    return {
      name,
      ok: live !== undefined,
      kept: serving !== undefined,
      text: serving
        ? `${name} serves ${serving} (first upload, nothing earlier)`
        : `${name} serves nothing (first upload did not complete)`,
    };
  }
  let intent = false;
  const settled = await untilRestored(owed, name, to, async (round) => {
    // The intent goes down before the deployment, once; a retry reads the edge first (level-based).
    if (!intent) {
      rec.journal(J.rollbackIntent, name, { versionId: to, from: p.versionId });
      intent = true;
    }
    await restoreTarget(runtime, worker.name, to, {
      checkFirst: round > 0 || p.previousVersionId === null,
      attempts: 1,
      message: `cbo rollback of release ${ctx.release.id}`,
    });
    rec.journal(J.rollbackDone, name, { versionId: to, ...(note ? { note } : {}) });
  });
  if (settled.ok) {
    const after = settled.owed ? ` (after ${settled.attempts} attempts)` : "";
    return { name, ok: true, kept: note !== undefined, text: note ? `${name} stays on ${to} (${note})` : `${name} back on ${to}${after}` };
  }
  rec.tryTo(() => rec.journal(J.rollbackFailed, name, { versionId: to, error: describeError(settled.error) }));
  return { name, ok: false, kept: false, text: `${name} could not be rolled back to ${to}: ${describeError(settled.error)}` };
}

/**
 * D1 files the release sent without an answer, settled from their tables before it ends, so its
 * journal agrees with them: a table that cannot be read yet (its region out) is read again with
 * the restore backoff until it answers, as a restore is retried; the release stays rolling_back
 * meanwhile. The wait is shown where an operator looks: on the restore board (`cbo status`,
 * /v1/status: "rollback waits for D1 …" on the target), in the journal (a `d1-wait` phase with its
 * reason, GET /v1/releases/:id) and in the events (release.restore.pending). A halt leaves it to
 * recovery (d1-recover.ts reads the same tables).
 */
async function settleD1(ctx: ApplyContext, owed: OwedContext): Promise<void> {
  const backoff = owed.backoff ?? DEFAULT_RESTORE_BACKOFF;
  const { rec, board, release } = ctx;
  const waiting = new Map<string, { since: string; reason: string }>();
  try {
    for (let round = 0; ; round++) {
      let unreadable: UnreadableD1[];
      try {
        ({ unreadable } = await settleUnansweredD1(rec, () => ctx.store.releases.entries(release.id), ctx.runtimes));
      } catch (e) {
        unreadable = [{ target: "", database: "", files: [], error: describeError(e) }];
      }
      const now = new Set(unreadable.map((u) => u.target));
      for (const [target, w] of waiting) {
        if (now.has(target)) continue;
        // Read at last: the journal agrees with the table there now.
        waiting.delete(target);
        board.clear(release.id, target);
        rec.tryTo(() => rec.journal(J.phaseDone, target, { phase: D1_WAIT, since: w.since }));
      }
      if (unreadable.length === 0) return;
      if (round === 0)
        rec.tryTo(() =>
          rec.log(
            `D1 migrations sent without an answer; reading their tables again until they answer: ${unreadable.map((u) => `${u.target}: D1 ${u.database} (${u.error})`).join("; ")}`,
          ),
        );
      const delay = Math.max(100, backoffDelay(round, backoff));
      for (const u of unreadable) {
        if (!u.target) continue;
        const reason = `D1 ${u.database}: whether ${u.files.join(", ")} landed (its migrations table cannot be read yet)`;
        const first = !waiting.has(u.target);
        const since = waiting.get(u.target)?.since ?? new Date().toISOString();
        waiting.set(u.target, { since, reason });
        board.set({
          releaseId: release.id,
          tenant: release.tenant,
          worker: release.worker,
          target: u.target,
          versionId: null,
          since,
          attempts: round + 1,
          lastError: u.error,
          nextAttemptAt: new Date(Date.now() + delay).toISOString(),
          waitingFor: reason,
        });
        if (first) {
          rec.tryTo(() =>
            rec.journal(J.phaseIntent, u.target, { phase: D1_WAIT, database: u.database, files: u.files, reason, error: u.error }),
          );
          rec.tryTo(() =>
            rec.emit("release.restore.pending", u.target, {
              versionId: null,
              reason: `rollback waits for ${reason}: ${u.error}`,
              retryInMs: delay,
            }),
          );
        }
      }
      try {
        await sleep(delay, ctx.halt);
      } catch {
        return;
      }
    }
  } finally {
    for (const target of waiting.keys()) board.clear(release.id, target);
  }
}

/** The journal's phase for a rollback waiting on a D1 migrations table (not `d1-…`: no migration phase of its own). */
const D1_WAIT = "rollback-d1-wait";
