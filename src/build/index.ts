// The build layer: a WorkerSource in, the modules a version upload carries out (bundle.ts); also
// what else a release reads from the project the way wrangler reads it: the static-assets manifest
// (assets-manifest.ts) and the D1 migration files (d1-migration-files.ts).
export {
  buildWorker,
  BUILD_CONDITIONS,
  COMMON_ESBUILD_OPTIONS,
  type BuildOutput,
  type BuildWorkerOptions,
  type BuiltModule,
} from "./bundle.ts";
export { canonicalJson, releaseHash, releaseMetadata, byCodeUnits } from "./hash.ts";
export { nodeCompatMode, definesNavigator, type NodeCompatMode } from "./node-compat.ts";
export { MODULE_CONTENT_TYPE, DEFAULT_MODULE_RULES, type ModuleType } from "./rules.ts";
export { writeOutdir } from "./outdir.ts";
export {
  checkMetafile,
  confinePlugin,
  createConfinement,
  realish,
  screenMessages,
  type Confinement,
  type ConfineOptions,
} from "./confine.ts";
export {
  buildAssetManifest,
  createAssetReader,
  MAX_ASSET_BYTES,
  MAX_ASSET_COUNT,
  type AssetFile,
  type AssetManifest,
  type AssetsBuild,
  type AssetsBuildOptions,
} from "./assets-manifest.ts";
export { createIgnorer, DEFAULT_ASSETS_IGNORE, type Ignorer } from "./assets-ignore.ts";
export {
  compareMigrationPaths,
  listD1MigrationFiles,
  pendingD1Migrations,
  readD1Migration,
  type D1MigrationFile,
  type D1MigrationsOptions,
} from "./d1-migration-files.ts";
export { d1MigrationMarkers, type D1MigrationMarkers } from "./d1-migration-markers.ts";
