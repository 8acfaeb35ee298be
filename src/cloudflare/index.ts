// Public surface of the Cloudflare API client.
export { createCloudflareClient, DEFAULT_BASE_URL, type CloudflareClient, type CloudflareClientOptions } from "./client.ts";
export { createBudgetRegistry, createRequestBudget, getBudgetFor, type BudgetStats, type RequestBudget } from "./budget.ts";
export { createTransport, responseInfo, type Transport, type TransportOptions, type TransportRequestInfo } from "./transport.ts";
export { cloudflareApiError, type CloudflareErrorItem } from "./errors.ts";
export { buildUploadForm, uploadMetadata, type ModuleType, type WorkerModule, type WorkerUpload } from "./upload.ts";
export { validateSplit, isMissingScript, type DeployResult, type SplitEntry } from "./workers.ts";
export type { KvBulkEntry, KvWriteOptions } from "./kv.ts";
export type { IngressRule, TunnelConfigInput } from "./tunnels.ts";
export type * from "./schemas.ts";
