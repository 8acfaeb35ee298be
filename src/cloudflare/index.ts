// Public surface of the Cloudflare API client.
export { parseBudgetSetting } from "./budget-setting.ts";
export { createCloudflareClient, DEFAULT_BASE_URL, type CloudflareClient, type CloudflareClientOptions } from "./client.ts";
export {
  createBudgetRegistry,
  createRequestBudget,
  getBudgetFor,
  type AcquireOptions,
  type BudgetRegistry,
  type BudgetPriority,
  type BudgetStats,
  type RequestBudget,
  type RequestBudgetOptions,
} from "./budget.ts";
export {
  createTransport,
  responseInfo,
  UNCLASSIFIED,
  type Transport,
  type TransportInit,
  type TransportOptions,
  type TransportRequestInfo,
} from "./transport.ts";
export { cloudflareApiError, type CloudflareErrorItem } from "./errors.ts";
export {
  buildUploadForm,
  uploadMetadata,
  moduleTypeOf,
  type AssetsConfigMetadata,
  type DurableObjectMigrations,
  type MigrationStep,
  type ModuleType,
  type UploadBinding,
  type WorkerModule,
  type WorkerUpload,
} from "./upload.ts";
export { bindingsMetadata, type BindingsMetadataInput, type ResourceIds } from "./bindings-metadata.ts";
export { assetsConfigMetadata, placementMetadata, uploadSettingsFromSource } from "./metadata-from-source.ts";
export { CF_ERROR, cloudflareCodes, hasCloudflareCode, isNotFound, nullIfMissing } from "./codes.ts";
export { d1QueryBody, type D1CreateOptions, type D1Jurisdiction, type D1LocationHint, type D1Query, type D1Statement } from "./d1.ts";
export {
  DEFAULT_D1_MIGRATIONS_TABLE,
  createMigrationsTableSql,
  escapeIdentifier,
  listAppliedMigrationsSql,
  migrationSql,
} from "./d1-migrations.ts";
export type { R2Jurisdiction, R2LocationHint, R2Options, R2StorageClass } from "./r2.ts";
export { CONSUMER_SETTING_DEFAULTS, workerConsumerBody, type QueueSettingsInput, type WorkerConsumerBody } from "./queues.ts";
export { migrationsToUpload } from "./durable-objects.ts";
export { originBody, routeBody, SCRIPT_API_DATE, type CustomDomainInput, type CustomDomainsOptions, type RouteInput } from "./triggers.ts";
export type { ScriptSettingsPatch, TailConsumer } from "./script-settings.ts";
export { ASSET_UPLOAD_CONCURRENCY, type AssetContent, type AssetManifest, type AssetsSync, type AssetsUploadSession } from "./assets.ts";
export { validateSplit, isMissingScript, type DeployResult, type SplitEntry } from "./workers.ts";
export type { KvBulkEntry, KvWriteOptions } from "./kv.ts";
export type { IngressRule, TunnelConfigInput } from "./tunnels.ts";
export type * from "./schemas.ts";
export type * from "./schemas-data.ts";
export type * from "./schemas-scripts.ts";
export { TAIL_PROTOCOL, type TailFilter, type TailSession } from "./tails.ts";
export { MAX_ANALYTICS_ROWS, type InvocationMinute, type VersionInvocations } from "./analytics.ts";
export {
  currentCallScope,
  interactive,
  INTERACTIVE_MAX_WAIT_MS,
  withCallScope,
  withoutCallScope,
  type CallScope,
  type CallRetry,
  type CallTally,
} from "./call-scope.ts";
