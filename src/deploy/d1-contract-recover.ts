// Recovery of a release whose every target passed its last gate but whose contract phase (the
// `-- cbo:contract` migrations, d1-contract.ts) the crash cut short or never began. Recovery
// finishes the job the release had left, per target in wave order and per database:
//
//   phase done in the journal                      ──> nothing to do
//   the table already holds every planned file     ──> nothing to do (it landed before the crash)
//   the files still pending, re-read from the project as the release read them:
//     each one has the content hash the plan holds ──> run by the release's own phase (d1-phase.ts:
//                                                      bookmark, table read again, one file per
//                                                      request, journaled), so none runs twice
//     one changed, vanished or has no planned hash ──> it and those after it are not run: held,
//                                                      named with the command that finishes it
//   D1 refuses a file                              ──> failed, as the release's phase would end
//   the edge cannot be read now                    ──> held, said (never guessed at)
//   the store refuses a write                      ──> thrown: the release stays unfinished and
//                                                      the next start recovers it again
import type { ResolvedWorker } from "../config/load.ts";
import type { ReleasePlan } from "./types.ts";
import type { JournalEntry } from "../store/index.ts";
import type { TargetRuntime } from "../targets/types.ts";
import { findOne, placeResource, refKey } from "../targets/resources.ts";
import { isCboError } from "../kit/errors.ts";
import { d1Phase } from "./d1-phase.ts";
import { d1Replay, J } from "./journal.ts";
import { readApplied, type TargetPlace } from "./observe.ts";
import { describeError, RecordFailure, type Recorder } from "./record.ts";
import { readD1Migrations, sourceOf, type D1Migrations } from "./release-build.ts";

export type ContractRecoveryDeps = {
  /** The worker as orchestrator.yaml declares it now (its project is read again); undefined when it is gone. */
  worker: ResolvedWorker | undefined;
  runtimes: Map<string, TargetRuntime>;
  /** Paths no file read may reach (as for a release's build). */
  protect: string[];
  place(target: string): TargetPlace;
};

export type ContractRecovery = {
  /** Per target and database, the files run now. */
  applied: Array<{ target: string; database: string; files: string[] }>;
  /** The first file not run on a target's database, and why; it and the files after it stay pending. */
  held: Array<{ target: string; database: string; file: string; why: string }>;
  /** A contract file D1 refused (the release then ends failed, as its own phase would have). */
  failed?: string;
};

export async function finishContract(
  rec: Recorder,
  plan: ReleasePlan,
  entries: JournalEntry[],
  deps: ContractRecoveryDeps,
): Promise<ContractRecovery> {
  const out: ContractRecovery = { applied: [], held: [] };
  const replays = d1Replay(entries);
  const finished = (target: string, database: string) =>
    replays.some((r) => r.target === target && r.database === database && r.finished.includes("d1-contract"));
  for (const name of plan.waves.flat()) {
    const planned = plan.targets.find((t) => t.name === name);
    for (const d of planned?.d1Contract ?? []) {
      if (d.pending.length === 0 || finished(name, d.database)) continue;
      const hold = (file: string, why: string) => out.held.push({ target: name, database: d.database, file, why });
      const runtime = deps.runtimes.get(name);
      if (!runtime) {
        hold(d.pending[0]!, `target ${name} is no longer configured`);
        continue;
      }
      if (!deps.worker) {
        hold(d.pending[0]!, `worker ${plan.worker} is no longer in orchestrator.yaml`);
        continue;
      }
      try {
        const source = sourceOf(deps.worker, name);
        const binding = source.bindings.find((b) => b.kind === "d1" && b.binding === d.binding);
        if (binding?.kind !== "d1") {
          hold(d.pending[0]!, `binding ${d.binding} is no longer in the worker's project`);
          continue;
        }
        const ref = placeResource(binding.resource, deps.place(name)).ref;
        const db = await findOne(runtime, ref);
        if (!db) {
          hold(d.pending[0]!, `D1 database ${d.database} is no longer in ${name}'s account`);
          continue;
        }
        const now = (await readD1Migrations(deps.worker, { ...source, bindings: [binding] }, deps.protect))[0];
        const table = now?.table ?? binding.migrations.table;
        const applied = new Set((await readApplied(runtime, db.id, table)).names);
        const verified = verifiedPrefix(d, now, applied);
        if (verified.held) hold(verified.held.file, verified.held.why);
        if (verified.files.length === 0) continue;
        const build = { source: { ...source, bindings: [binding] }, d1: [{ ...now!, files: verified.files }] };
        const before = new Set(applied);
        await d1Phase({ rec, plan }, "d1-contract", name, runtime, build, new Map([[refKey(ref), db]]), deps.place(name));
        out.applied.push({ target: name, database: d.database, files: verified.files.map((f) => f.name).filter((f) => !before.has(f)) });
      } catch (e) {
        // The store refused a write: recovery stops here and the next start tries again.
        if (e instanceof RecordFailure) throw e;
        const error = describeError(e);
        if (isCboError(e) && e.code === "ERR_D1_MIGRATION") {
          rec.tryTo(() => rec.journal(J.targetFailed, name, { stage: "D1 contract migrations", error, recovery: true }));
          rec.tryTo(() => rec.emit("release.step.failed", name, { stage: "D1 contract migrations", reason: `${name}: ${error}` }));
          out.failed = `the contract phase failed on ${name} when recovery ran it: ${error}; the code stays where it is (it runs on the expanded schema): fix the migration and release again`;
          return out;
        }
        // Not readable or not reachable now: left pending, said, never guessed at.
        hold(d.pending[0]!, `could not be checked now: ${error}`);
      }
    }
  }
  return out;
}

/**
 * The planned contract files still pending, in order, up to the first that is not what the plan
 * read (changed, vanished, or planned by a release that recorded no hashes).
 */
export function verifiedPrefix(
  planned: { pending: string[]; sha256?: Record<string, string> | undefined },
  now: D1Migrations | undefined,
  applied: Set<string>,
): { files: D1Migrations["files"]; held?: { file: string; why: string } } {
  const files: D1Migrations["files"] = [];
  for (const name of planned.pending) {
    if (applied.has(name)) continue;
    const file = now?.files.find((f) => f.name === name);
    const want = planned.sha256?.[name];
    if (!file) return { files, held: { file: name, why: "it is no longer in the project" } };
    if (!want) return { files, held: { file: name, why: "the release recorded no content hash to check it against" } };
    if (file.sha256 !== want) return { files, held: { file: name, why: "it changed since the release planned it" } };
    files.push(file);
  }
  return { files };
}

/** For the release's reason: what recovery did with the contract phase. */
export function describeContractRecovery(c: ContractRecovery, worker: string): string {
  const parts: string[] = [];
  const ran = c.applied.filter((a) => a.files.length > 0);
  if (ran.length > 0)
    parts.push(
      `contract phase finished by recovery: ${ran.map((a) => `${a.target} applied ${a.files.join(", ")} to D1 ${a.database}`).join(", ")}`,
    );
  if (c.held.length > 0)
    parts.push(
      `contract migrations not run: ${c.held.map((h) => `${h.file} on ${h.target} (D1 ${h.database}): ${h.why}`).join("; ")}; ` +
        `review with cbo plan ${worker}, then finish with cbo release ${worker}`,
    );
  return parts.join("; ");
}
