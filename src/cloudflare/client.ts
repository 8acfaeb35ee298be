// The Cloudflare API client: a plain object of async methods over one transport (budget +
// retries) that every call goes through, typed and checked with our own schemas.
//
// Methods (see each group's file for arguments):
//   workers   uploadVersion, uploadScript, listVersions, getVersion, createDeployment,
//             listDeployments, deploy, rollback, listScripts, deleteScript, getSubdomain
//   secrets   putSecret, listSecrets, deleteSecret, bulkSecrets
//   kv        createKvNamespace, listKvNamespaces, deleteKvNamespace, putKvValue, getKvValue,
//             getKvText, listKvKeys, deleteKvValue, bulkPutKv, bulkDeleteKv
//   tunnels   createTunnel, listTunnels, deleteTunnel, putTunnelConfig, getTunnelToken
//   accounts  verifyToken, listAccounts, listMemberships
//   d1        listD1Databases, getD1Database, createD1Database, deleteD1Database, queryD1, rawD1,
//             getD1Bookmark, restoreD1, ensureD1MigrationsTable, listAppliedD1Migrations,
//             applyD1Migration
//   r2        listR2Buckets, getR2Bucket, createR2Bucket, deleteR2Bucket
//   queues    listQueues, getQueueByName, getQueue, createQueue, deleteQueue, listQueueConsumers,
//             createQueueConsumer, updateQueueConsumer, deleteQueueConsumer, upsertWorkerConsumer
//   DOs       listDurableObjectNamespaces, getWorkerService, getMigrationTag
//   triggers  getSchedules, putSchedules, getScriptRoutes, putScriptRoutes, findZone,
//             listZoneRoutes, createZoneRoute, deleteZoneRoute, putCustomDomains,
//             listCustomDomains, deleteCustomDomain, getScriptSubdomain, setScriptSubdomain
//   settings  getScriptSettings, patchScriptSettings, getVersionSettings, patchVersionSettings
//   assets    createAssetsUploadSession, uploadAssetsBucket, uploadAssetsSession, syncAssets
//   tails     createTail, listTails, deleteTail (wrangler tail's sessions)
//   analytics workersInvocationsByMinute (GraphQL workersInvocationsAdaptive)
//   misc      accountId(), forAccount(id), budget
// Every request names its endpoint class (`d1.query`, `workers.versions.create`, …), which
// TransportOptions.onRequest receives, for counting API requests per endpoint.
import { createAccountsApi } from "./accounts.ts";
import { createAnalyticsApi } from "./analytics.ts";
import { createAssetsApi } from "./assets.ts";
import { createD1Api } from "./d1.ts";
import { createD1MigrationsApi } from "./d1-migrations.ts";
import { createDurableObjectsApi } from "./durable-objects.ts";
import { createQueuesApi } from "./queues.ts";
import { createR2Api } from "./r2.ts";
import { createScriptSettingsApi } from "./script-settings.ts";
import { createTailsApi } from "./tails.ts";
import { createTriggersApi } from "./triggers.ts";
import { getBudgetFor, type RequestBudget } from "./budget.ts";
import { createApiContext } from "./context.ts";
import { createKvApi } from "./kv.ts";
import { createSecretsApi } from "./worker-secrets.ts";
import { createTransport, type Transport, type TransportOptions } from "./transport.ts";
import { createTunnelsApi } from "./tunnels.ts";
import { createWorkersApi } from "./workers.ts";

export const DEFAULT_BASE_URL = "https://api.cloudflare.com/client/v4";

export type CloudflareClientOptions = Omit<TransportOptions, "baseUrl" | "budget"> & {
  /** Default `https://api.cloudflare.com/client/v4`; the local edge's `apiUrl` works the same. */
  baseUrl?: string;
  /** Account for account-scoped calls; without it, the token's only account is used. */
  accountId?: string;
  /** Default: the process-wide budget of this token (960 requests per 5 minutes). */
  budget?: RequestBudget;
};

export type CloudflareClient = ReturnType<typeof createWorkersApi> &
  ReturnType<typeof createSecretsApi> &
  ReturnType<typeof createKvApi> &
  ReturnType<typeof createTunnelsApi> &
  ReturnType<typeof createAccountsApi> &
  ReturnType<typeof createD1Api> &
  ReturnType<typeof createD1MigrationsApi> &
  ReturnType<typeof createR2Api> &
  ReturnType<typeof createQueuesApi> &
  ReturnType<typeof createDurableObjectsApi> &
  ReturnType<typeof createTriggersApi> &
  ReturnType<typeof createScriptSettingsApi> &
  ReturnType<typeof createAssetsApi> &
  ReturnType<typeof createTailsApi> &
  ReturnType<typeof createAnalyticsApi> & {
    /** The account that account-scoped calls use. */
    accountId(): Promise<string>;
    /** The same client (same transport and budget) bound to another account. */
    forAccount(accountId: string): CloudflareClient;
    budget: RequestBudget;
  };

export function createCloudflareClient(opts: CloudflareClientOptions): CloudflareClient {
  const { accountId, budget: givenBudget, baseUrl = DEFAULT_BASE_URL, ...transportOptions } = opts;
  const budget = givenBudget ?? getBudgetFor(opts.apiToken);
  const transport = createTransport({ ...transportOptions, baseUrl, budget });
  return bind({ transport, budget }, accountId);
}

type Shared = { transport: Transport; budget: RequestBudget };

function bind(shared: Shared, accountId: string | undefined): CloudflareClient {
  const ctx = createApiContext({ transport: shared.transport, ...(accountId === undefined ? {} : { accountId }) });
  return {
    ...createWorkersApi(ctx),
    ...createSecretsApi(ctx),
    ...createKvApi(ctx),
    ...createTunnelsApi(ctx),
    ...createAccountsApi(ctx),
    ...createD1Api(ctx),
    ...createD1MigrationsApi(ctx),
    ...createR2Api(ctx),
    ...createQueuesApi(ctx),
    ...createDurableObjectsApi(ctx),
    ...createTriggersApi(ctx),
    ...createScriptSettingsApi(ctx),
    ...createAssetsApi(ctx),
    ...createTailsApi(ctx),
    ...createAnalyticsApi(ctx),
    accountId: () => ctx.accountId(),
    forAccount: (id: string) => bind(shared, id),
    budget: shared.budget,
  };
}
