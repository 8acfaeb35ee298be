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
//   misc      accountId(), forAccount(id), budget
import { createAccountsApi } from "./accounts.ts";
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
  ReturnType<typeof createAccountsApi> & {
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
    accountId: () => ctx.accountId(),
    forAccount: (id: string) => bind(shared, id),
    budget: shared.budget,
  };
}
