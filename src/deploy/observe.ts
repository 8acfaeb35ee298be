// What a release reads from each target before it plans (level-based: never from our records):
// the live deployment, the target's own resources for the Worker's logical names, the D1
// migrations already applied there, the Durable Object migration tag, an assets upload session
// (which says exactly which files the account lacks), and the script settings the Worker
// manages. Every request is counted: the plan promises the release's request count, and these
// reads are part of the release.
import type { ResolvedWorker } from "../config/load.ts";
import { listAppliedMigrationsSql, type AssetsUploadSession } from "../cloudflare/index.ts";
import type { WorkerSource } from "../config/source/model.ts";
import type { Version } from "../cloudflare/index.ts";
import { DEFAULT_CONFIG_NAMESPACE } from "../targets/kv-namespaces.ts";
import { readDeployment, readVersion, readVersionIds } from "../targets/live-read.ts";
import { mainVersion } from "./drift/compare.ts";
import {
  checkJurisdiction,
  lookupResources,
  placeResource,
  refKey,
  type FoundResource,
  type PlacedResource,
} from "../targets/resources.ts";
import { desiredState, managedKeys, readState, type ScriptState } from "../targets/script-state.ts";
import type { ObservedTarget, TargetRuntime } from "../targets/types.ts";
import type { D1Migrations, SourceBuild } from "./release-build.ts";

/** One resource of the source in one target: where it goes, what uses it, and what the lookup found. */
export type ResourceFact = PlacedResource & { usedBy: string[]; found: FoundResource | null };

export type TargetFacts = ObservedTarget & {
  resources?: ResourceFact[];
  /** Per D1 binding with migration files: the names applied there (null: the database does not exist yet). */
  d1?: Array<{ migrations: D1Migrations; applied: string[] | null }>;
  /** The script's Durable Object migration tag, when the source has migrations (null: none). */
  migrationTag?: string | null;
  /** The assets upload session opened for this release (its token stays in memory, never in the plan or journal). */
  assets?: { session: AssetsUploadSession; bytes: Record<string, number> };
  /** Settings the source manages: what the target has (null for a new script) and what it should have. */
  settings?: { current: ScriptState | null; desired: ScriptState };
  /** The version serving most traffic, as the edge has it (what `cbo diff` compares with). */
  liveVersion?: { versionId: string; version: Version | "missing" };
  /** For a Worker running the edge agent: its config namespace's id there (null: the release creates it). */
  configNamespace?: { title: string; id: string | null };
  /** Requests these reads spent beyond the deployment read. */
  reads: number;
};

export type TargetPlace = { name: string; jurisdiction?: string | undefined };

/** Each resource of the source, placed in the target, with what uses it (bindings, consumers, dead-letter queues). */
export function placedResources(source: WorkerSource, target: TargetPlace): Array<PlacedResource & { usedBy: string[] }> {
  const out = new Map<string, PlacedResource & { usedBy: string[] }>();
  const add = (resource: Parameters<typeof placeResource>[0], by: string) => {
    const placed = placeResource(resource, target);
    const key = refKey(placed.ref);
    const had = out.get(key);
    if (had) had.usedBy.push(by);
    else out.set(key, { ...placed, usedBy: [by] });
  };
  for (const b of source.bindings) if ("resource" in b) add(b.resource, b.binding);
  for (const c of source.queueConsumers) {
    add(c.queue, "consumer");
    if (c.deadLetterQueue) add(c.deadLetterQueue, "dead letter");
  }
  return [...out.values()];
}

export async function observeForRelease(
  runtime: TargetRuntime,
  worker: ResolvedWorker,
  build: SourceBuild,
  target: TargetPlace,
  opts: { versions?: boolean; configNamespace?: string | undefined } = {},
): Promise<TargetFacts> {
  const script = worker.name;
  const source = build.source;
  let reads = 0;
  // The deployment first: a person's plan reads it anew, and a change found there (a `wrangler
  // deploy` meanwhile) keeps the reads below from being answered from before it (read-reuse.ts).
  const deployment = await readDeployment(runtime, script);
  const versions = opts.versions ? await readVersionIds(runtime, script) : [];
  const fresh = deployment.length === 0;

  // The version the diff compares with: one read (versions are immutable, but a plan reads anew).
  const main = mainVersion(deployment);
  let liveVersion: TargetFacts["liveVersion"];
  if (main !== undefined) {
    liveVersion = { versionId: main, version: await readVersion(runtime, script, main) };
    reads += 1;
  }

  let configNamespace: TargetFacts["configNamespace"];
  if (worker.agent) {
    const title = opts.configNamespace ?? DEFAULT_CONFIG_NAMESPACE;
    const found = (await runtime.client.listKvNamespaces()).find((n) => n.title === title);
    reads += 1;
    configNamespace = { title, id: found?.id ?? null };
  }

  const placed = placedResources(source, target);
  const found = await lookupResources(
    runtime,
    placed.map((p) => p.ref),
  );
  reads += placed.filter((p) => p.ref.kind !== "kv").length + (placed.some((p) => p.ref.kind === "kv") ? 1 : 0);
  const resources: ResourceFact[] = placed.map((p) => {
    const f = found.get(refKey(p.ref)) ?? null;
    if (f) checkJurisdiction(target.name, p.ref, f);
    return { ...p, found: f };
  });

  const d1: NonNullable<TargetFacts["d1"]> = [];
  for (const m of build.d1) {
    const db = resources.find((r) => r.ref.kind === "d1" && r.ref.name === m.database)?.found;
    if (!db) {
      d1.push({ migrations: m, applied: null });
      continue;
    }
    const read = await readApplied(runtime, db.id, m.table);
    reads += read.reads;
    d1.push({ migrations: m, applied: read.names });
  }

  let migrationTag: string | null | undefined;
  if (source.migrations.length > 0) {
    migrationTag = await runtime.client.getMigrationTag(script);
    reads += 1;
  }

  let assets: TargetFacts["assets"];
  if (build.assets) {
    const session = await runtime.client.createAssetsUploadSession(script, build.assets.manifest);
    reads += 1;
    const bytes: Record<string, number> = {};
    for (const e of Object.values(build.assets.manifest)) bytes[e.hash] = e.size;
    assets = { session, bytes };
  }

  let settings: TargetFacts["settings"];
  const desired = desiredState(script, source);
  if (managedKeys(desired).length > 0) {
    if (fresh) settings = { current: null, desired };
    else {
      const r = await readState(runtime, script, desired);
      reads += r.reads;
      settings = { current: r.state, desired };
    }
  }

  return {
    target: runtime.name,
    deployment,
    versions,
    resources,
    d1,
    ...(migrationTag === undefined ? {} : { migrationTag }),
    ...(assets ? { assets } : {}),
    ...(settings ? { settings } : {}),
    ...(liveVersion ? { liveVersion } : {}),
    ...(configNamespace ? { configNamespace } : {}),
    reads,
  };
}

/**
 * The migration names a D1 database's table records, without creating the table: one query for
 * whether it exists, a second to read it (so a plan writes nothing).
 */
export async function readApplied(runtime: TargetRuntime, databaseId: string, table: string): Promise<{ names: string[]; reads: number }> {
  const [probe] = await runtime.client.queryD1(databaseId, {
    sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?",
    params: [table],
  });
  if (!probe || probe.results.length === 0) return { names: [], reads: 1 };
  const [rows] = await runtime.client.queryD1(databaseId, listAppliedMigrationsSql(table));
  return { names: (rows?.results ?? []).map((r) => String(r.name)), reads: 2 };
}
