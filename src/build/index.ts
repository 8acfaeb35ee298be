// The build layer: a WorkerSource in, the modules a version upload carries out (bundle.ts).
export { buildWorker, BUILD_CONDITIONS, COMMON_ESBUILD_OPTIONS, type BuildOutput, type BuildWorkerOptions, type BuiltModule } from "./bundle.ts";
export { canonicalJson, releaseHash, releaseMetadata, byCodeUnits } from "./hash.ts";
export { nodeCompatMode, definesNavigator, type NodeCompatMode } from "./node-compat.ts";
export { MODULE_CONTENT_TYPE, DEFAULT_MODULE_RULES, type ModuleType } from "./rules.ts";
export { writeOutdir } from "./outdir.ts";
export { checkMetafile, confinePlugin, createConfinement, realish, screenMessages, type Confinement, type ConfineOptions } from "./confine.ts";
