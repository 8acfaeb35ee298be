// Whether a script PUT carrying Durable Object migrations landed when its answer never came (the
// daemon killed while it was in flight, or the answer lost): the script's migration tag says, as
// only that PUT moves it. Rolling such a target back would be refused for good (10238: nothing
// from before a Durable Object migration can be deployed), so recovery and a release's own
// rollback ask first and keep the new code when it landed.
import { readDeployment } from "../targets/live-read.ts";
import type { TargetRuntime } from "../targets/types.ts";

export type LandedMigration = { landed: false } | { landed: true; serving: string | null };

/** Reads the script's migration tag (and, when it is `newTag`, what the target serves now). Throws when the edge cannot be read. */
export async function migrationLanded(runtime: TargetRuntime, script: string, newTag: string): Promise<LandedMigration> {
  if ((await runtime.client.getMigrationTag(script)) !== newTag) return { landed: false };
  const live = await readDeployment(runtime, script);
  const top = [...live].sort((a, b) => b.percentage - a.percentage)[0];
  return { landed: true, serving: top?.versionId ?? null };
}
