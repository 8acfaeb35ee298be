// `drift: revert`: the desired split back on the target, as one deployment annotated
// `cbo drift revert`, written through the same restore path as a rollback (restore-target.ts). The
// checker decides when (never while the engine moves the worker, at most once per interval per
// target); this file only says whether it can and does it.
import { toCboError } from "../../kit/errors.ts";
import type { Split, TargetRuntime } from "../../targets/types.ts";
import { restoreSplit } from "../restore-target.ts";
import type { VersionFacts } from "./compare.ts";

export const REVERT_MESSAGE = "cbo drift revert";

/** Why the desired split cannot be put back, or undefined when it can. Pure. */
export function cannotRevert(desired: Split, facts: (versionId: string) => VersionFacts | "missing" | undefined): string | undefined {
  if (desired.length === 0) return "nothing is desired there";
  const gone = desired.filter((d) => facts(d.versionId) === "missing").map((d) => d.versionId);
  if (gone.length > 0)
    return `the desired version${gone.length > 1 ? "s" : ""} ${gone.join(", ")} no longer exist${gone.length > 1 ? "" : "s"} on the edge; release the worker to replace ${gone.length > 1 ? "them" : "it"}`;
  return undefined;
}

export async function revertTarget(
  runtime: TargetRuntime,
  worker: string,
  desired: Split,
): Promise<{ ok: true } | { ok: false; why: string }> {
  try {
    // Through the engine's own restore path (which forces past Cloudflare's 10220: putting back the
    // version with the secrets it shipped is exactly what revert is for), once (the checker retries
    // next interval).
    await restoreSplit(runtime, worker, desired, { attempts: 1, message: REVERT_MESSAGE });
    return { ok: true };
  } catch (e) {
    const err = toCboError(e);
    return { ok: false, why: `${err.code}: ${err.message.split("\n")[0]}` };
  }
}
