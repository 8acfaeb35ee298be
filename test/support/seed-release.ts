// The crash tests' seed: one release run to its end by an engine of its own on the test's store
// file, closed again before the test starts the engines it kills and restarts.
import type { ResolvedSpec } from "../../src/config/load.ts";
import { createEngine } from "../../src/deploy/index.ts";
import { createStore, type Release } from "../../src/store/index.ts";
import type { TargetRuntime } from "../../src/targets/types.ts";

export async function releaseOnce(
  storeFile: string,
  spec: ResolvedSpec,
  targets: Map<string, TargetRuntime>,
  worker: string,
): Promise<Release> {
  const store = createStore(storeFile);
  const engine = createEngine({ store, spec: () => spec, targets: () => targets });
  const r = await engine.wait((await engine.release(worker)).id);
  await engine.close();
  store.close();
  return r;
}
