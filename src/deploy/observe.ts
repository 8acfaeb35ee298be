// Reads what a target runs now from the edge itself (never from our records): the live deployment
// and, for `cbo plan`, the versions and KV namespaces. A Worker that does not exist there yet is
// observed as an empty deployment.
import { isMissingScript } from "../cloudflare/index.ts";
import type { ObservedTarget, TargetRuntime } from "./types.ts";

export async function observeDeployment(runtime: TargetRuntime, worker: string): Promise<ObservedTarget["deployment"]> {
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
    observeDeployment(runtime, worker),
    opts.versions ? listVersionIds(runtime, worker) : Promise.resolve([] as string[]),
    opts.kv ? runtime.client.listKvNamespaces().then((l) => l.map((n) => n.title)) : Promise.resolve(undefined),
  ]);
  return { target: runtime.name, deployment, versions, ...(kvNamespaces === undefined ? {} : { kvNamespaces }) };
}

/** Version ids on the edge, newest first, at most 100 (what rollback can reach). */
export async function listVersionIds(runtime: TargetRuntime, worker: string): Promise<string[]> {
  try {
    return (await runtime.client.listVersions(worker)).slice(0, 100).map((v) => v.id);
  } catch (e) {
    if (isMissingScript(e)) return [];
    throw e;
  }
}

/** True when the target serves exactly `versionId` at 100%. */
export function servesOnly(deployment: ObservedTarget["deployment"], versionId: string): boolean {
  return deployment.length === 1 && deployment[0]!.versionId === versionId && deployment[0]!.percentage >= 100;
}
