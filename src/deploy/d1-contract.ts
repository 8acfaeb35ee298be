// The release's second phase: contract migrations (`-- cbo:contract`), once every target reached
// 100% and passed its last gate, target by target in wave order. It never runs in a release that
// rolls back (apply.ts calls it only after the last wave passed). A failure leaves every target on
// the new code, which runs on the expanded schema, and ends the release `failed` naming the file:
// rolling the code back would not undo a contract migration that landed, only break the old code.
import { isCboError } from "../kit/errors.ts";
import type { ApplyContext } from "./apply-context.ts";
import { d1Phase } from "./d1-phase.ts";
import { J } from "./journal.ts";
import { describeError } from "./record.ts";
import { targetPlace, type ResourceIds } from "./target-phases.ts";

export async function contractPhase(ctx: ApplyContext, resourceIds: Map<string, ResourceIds>): Promise<{ failed?: string; stop?: "halt" }> {
  const { rec, plan } = ctx;
  for (const name of plan.waves.flat()) {
    const planned = plan.targets.find((t) => t.name === name);
    if (!planned?.d1Contract || planned.d1Contract.length === 0) continue;
    const runtime = ctx.runtimes.get(name);
    const ids = resourceIds.get(name);
    if (ctx.halt.aborted) return { stop: "halt" };
    try {
      if (!runtime || !ids) throw new Error(`target ${name} is no longer configured`);
      await d1Phase(ctx, "d1-contract", name, runtime, ctx.build.of(name), ids, targetPlace(ctx, name));
    } catch (e) {
      if (ctx.halt.aborted) return { stop: "halt" };
      const error = describeError(e);
      rec.tryTo(() => rec.journal(J.targetFailed, name, { stage: "D1 contract migrations", error }));
      const file = isCboError(e) && typeof e.details?.file === "string" ? ` (${e.details.file})` : "";
      rec.tryTo(() => rec.emit("release.step.failed", name, { stage: "D1 contract migrations", reason: `${name}: ${error}` }));
      return {
        failed: `every target serves the new version at 100%, but the contract phase failed on ${name}${file}: ${error}; the code stays where it is (it runs on the expanded schema): fix the migration and release again`,
      };
    }
  }
  return {};
}
