// The one reader of what a target serves, from the edge itself (never from our records): the live
// deployment, the versions a rollback can reach, what one version is, and, for `cbo plan`, the KV
// namespaces. The engine (plan, rollback, recovery), drift and the API's status all read through
// here. A Worker that does not exist there (yet, or any more) reads as an empty deployment.
import { isCboError } from "../kit/errors.ts";
import { isMissingScript, type Version } from "../cloudflare/index.ts";
import type { ObservedTarget, Split, TargetRuntime } from "./types.ts";

/** The live split (newest deployment); empty when the Worker is not deployed there (or was deleted). */
export async function readDeployment(runtime: TargetRuntime, worker: string): Promise<Split> {
  try {
    const [live] = await runtime.client.listDeployments(worker);
    return (live?.versions ?? []).map((v) => ({ versionId: v.version_id, percentage: v.percentage }));
  } catch (e) {
    if (isMissingScript(e)) return [];
    throw e;
  }
}

export async function observeTarget(
  runtime: TargetRuntime,
  worker: string,
  opts: { versions?: boolean; kv?: boolean } = {},
): Promise<ObservedTarget> {
  const [deployment, versions, kvNamespaces] = await Promise.all([
    readDeployment(runtime, worker),
    opts.versions ? readVersionIds(runtime, worker) : Promise.resolve([] as string[]),
    opts.kv ? runtime.client.listKvNamespaces().then((l) => l.map((n) => n.title)) : Promise.resolve(undefined),
  ]);
  return { target: runtime.name, deployment, versions, ...(kvNamespaces === undefined ? {} : { kvNamespaces }) };
}

/** Version ids on the edge, newest first, at most 100 (what rollback can reach). */
export async function readVersionIds(runtime: TargetRuntime, worker: string): Promise<string[]> {
  try {
    return (await runtime.client.listVersions(worker)).slice(0, 100).map((v) => v.id);
  } catch (e) {
    if (isMissingScript(e)) return [];
    throw e;
  }
}

/** One version as the edge has it, or "missing" when the version (or the whole Worker) is gone. */
export async function readVersion(runtime: TargetRuntime, worker: string, versionId: string): Promise<Version | "missing"> {
  try {
    return await runtime.client.getVersion(worker, versionId);
  } catch (e) {
    // Versions are immutable: one that is gone does not come back under the same id.
    if (isCboError(e) && e.details?.status === 404) return "missing";
    throw e;
  }
}

/** True when the target serves exactly `versionId` at 100%. */
export function servesOnly(deployment: Split, versionId: string): boolean {
  return deployment.length === 1 && deployment[0]!.versionId === versionId && deployment[0]!.percentage >= 100;
}

/** Same versions at the same shares, in any order. */
export function sameSplit(a: Split, b: Split): boolean {
  if (a.length !== b.length) return false;
  return a.every((x) => b.some((y) => y.versionId === x.versionId && Math.abs(y.percentage - x.percentage) < 1e-6));
}
