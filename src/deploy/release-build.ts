// Everything a release reads from the Worker's project, once per wrangler environment its targets
// release (targets sharing an environment share one build): the bundle, the static-assets
// manifest, and each D1 binding's migration files. Nothing here talks to Cloudflare; the plan
// (plan.ts) and each target's phases (apply.ts) use the result.
import { createHash } from "node:crypto";
import type { ResolvedWorker } from "../config/load.ts";
import type { WorkerSource } from "../config/source/model.ts";
import {
  buildAssetManifest,
  canonicalJson,
  d1MigrationMarkers,
  listD1MigrationFiles,
  readD1Migration,
  type AssetsBuild,
  type D1MigrationFile,
  type D1MigrationMarkers,
} from "../build/index.ts";
import type { VersionFacts } from "../store/index.ts";
import { parseHeaders, parseRedirects, type InvalidRule } from "../kit/assets-rules.ts";
import { bundleSource, legacySource, type Bundle, type BundleOptions } from "./bundle.ts";

/**
 * A D1 binding's migrations: the database (logical name), the table wrangler records them in, the
 * files in order (read now, through the confinement) with their markers (contract, breaks-rollback).
 */
export type D1Migrations = {
  binding: string;
  database: string;
  table: string;
  /** `sha256`: of the SQL text (hex), what the plan records of a contract file and recovery checks. */
  files: Array<D1MigrationFile & { sql: string; sha256: string } & D1MigrationMarkers>;
};

export type SourceBuild = {
  source: WorkerSource;
  bundle: Bundle;
  /** The bundle's release hash, with the asset manifest when the Worker has assets (an asset change is a new release). */
  hash: string;
  assets?: AssetsBuild;
  d1: D1Migrations[];
};

/** Per target, the build of the environment it releases. */
export type ReleaseBuild = {
  /** The default environment's build (the plan's bundleHash). */
  main: SourceBuild;
  of(target: string): SourceBuild;
};

/** The source a target releases: its wrangler environment's, else the worker's own. */
export function sourceOf(worker: ResolvedWorker, target: string): WorkerSource {
  return worker.sources?.[target] ?? worker.source ?? legacySource(worker);
}

export async function buildRelease(worker: ResolvedWorker, opts: BundleOptions = {}): Promise<ReleaseBuild> {
  const main = worker.source ?? legacySource(worker);
  const sources = [...new Set([main, ...worker.targets.map((t) => sourceOf(worker, t))])];
  const builds = new Map<WorkerSource, SourceBuild>();
  for (const s of sources) builds.set(s, await buildSource(worker, s, opts));
  return { main: builds.get(main)!, of: (t) => builds.get(sourceOf(worker, t))! };
}

async function buildSource(worker: ResolvedWorker, source: WorkerSource, opts: BundleOptions): Promise<SourceBuild> {
  const protect = opts.protect ?? [];
  const bundle = await bundleSource(worker.name, source, worker.root, opts);
  const assets = source.assets
    ? await buildAssetManifest(source.assets.directory, { root: worker.root, protect, worker: worker.name })
    : undefined;
  const d1 = await readD1Migrations(worker, source, protect);
  // What a release ships beyond the bundle: an asset or D1 migration change alone is a new release.
  const extra = {
    ...(assets ? { assets: assets.manifest, redirects: assets.redirects ?? null, headers: assets.headers ?? null } : {}),
    ...(d1.length > 0 ? { d1: d1.map((m) => ({ database: m.database, files: m.files.map((f) => [f.name, f.sha256]) })) } : {}),
  };
  const hash =
    Object.keys(extra).length === 0
      ? bundle.hash
      : createHash("sha256").update(bundle.hash).update("\0").update(canonicalJson(extra)).digest("hex");
  return { source, bundle, hash, ...(assets ? { assets } : {}), d1 };
}

/**
 * Each D1 binding's migration files of a source, read now through the confinement (a release's
 * build, and recovery finishing a contract phase the crash cut short: d1-contract-recover.ts).
 */
export async function readD1Migrations(
  worker: Pick<ResolvedWorker, "name" | "root">,
  source: WorkerSource,
  protect: string[],
): Promise<D1Migrations[]> {
  const d1: D1Migrations[] = [];
  for (const b of source.bindings) {
    if (b.kind !== "d1") continue;
    const files = await listD1MigrationFiles({
      dir: b.migrations.dir,
      ...(b.migrations.pattern ? { pattern: b.migrations.pattern } : {}),
      ...(source.origin.kind === "wrangler" ? { patternBase: source.projectRoot } : {}),
      root: worker.root,
      protect,
      worker: worker.name,
    });
    if (files.length === 0) continue;
    const read = await Promise.all(
      files.map(async (f) => {
        const sql = await readD1Migration(f, { root: worker.root, protect, worker: worker.name });
        return { ...f, sql, sha256: createHash("sha256").update(sql).digest("hex"), ...d1MigrationMarkers(sql) };
      }),
    );
    d1.push({ binding: b.binding, database: b.resource.name, table: b.migrations.table, files: read });
  }
  return d1;
}

/**
 * What the catalog records of a version at upload and `cbo diff` compares with: each module's
 * hash (type and bytes), a code hash over them, and the assets manifest (path -> hash). The
 * version's metadata is not in it: bindings, vars and compatibility are read back from the edge.
 */
export function versionFacts(build: SourceBuild): VersionFacts {
  const modules: Record<string, string> = {};
  for (const m of build.bundle.modules) {
    const bytes = typeof m.content === "string" ? m.content : new Uint8Array(m.content as ArrayBuffer);
    modules[m.name] = createHash("sha256")
      .update(m.type ?? "")
      .update("\0")
      .update(bytes)
      .digest("hex");
  }
  const code = createHash("sha256").update(canonicalJson(modules)).digest("hex");
  const assets = build.assets ? Object.fromEntries(Object.entries(build.assets.manifest).map(([path, e]) => [path, e.hash])) : undefined;
  return { code, modules, ...(assets ? { assets } : {}) };
}

/**
 * The `_redirects` and `_headers` lines Cloudflare will skip, with wrangler's reasons (wrangler
 * prints them when it deploys): a release says so in its plan rather than dropping them silently.
 */
export function assetRuleWarnings(b: SourceBuild): string[] {
  if (!b.assets) return [];
  const say = (file: string, invalid: InvalidRule[]) =>
    invalid.map((r) => `${file}${r.lineNumber ? `:${r.lineNumber}` : ""}: ${r.message}${r.line ? ` (${r.line})` : ""}`);
  const redirects: InvalidRule[] = [];
  const headers: InvalidRule[] = [];
  if (b.assets.redirects !== undefined) parseRedirects(b.assets.redirects, b.source.assets?.htmlHandling, redirects);
  if (b.assets.headers !== undefined) parseHeaders(b.assets.headers, headers);
  return [...say("_redirects", redirects), ...say("_headers", headers)];
}
