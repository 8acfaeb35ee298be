// Durable Objects (CLOUDFLARE-API-FLEET §4): the account's namespaces, and the script's current
// migration tag, read where wrangler 4.1xx reads it (`GET /workers/services/:name` ->
// default_environment.script.migration_tag; 4.86 read the same field off `GET /workers/scripts`
// items, see listScripts). From the tag and the configured `[[migrations]]`, migrationsToUpload
// decides what a script PUT carries, exactly as wrangler's getMigrationsToUpload (§4.3).
import type { Migration } from "../config/source/model.ts";
import { CF_ERROR, nullIfMissing } from "./codes.ts";
import { type ApiContext, seg } from "./context.ts";
import { DurableObjectNamespaceSchema, type DurableObjectNamespace, WorkerServiceSchema, type WorkerService } from "./schemas-data.ts";
import type { DurableObjectMigrations } from "./upload.ts";

/**
 * The `migrations` metadata of a script upload for `configured` (in config order) when the
 * script's current tag is `remoteTag`:
 *   no tag             every step, new_tag = the last tag
 *   a tag before last  the steps after it, old_tag = it
 *   the last tag       nothing (undefined)
 *   an unknown tag     every step, old_tag = it, and a warning (wrangler warns the same)
 */
export function migrationsToUpload(
  configured: Migration[],
  remoteTag: string | null | undefined,
): { migrations?: DurableObjectMigrations; warning?: string } {
  if (configured.length === 0) return {};
  const steps = (ms: Migration[]) => ms.map(({ tag: _tag, ...rest }) => rest);
  const newTag = configured[configured.length - 1]!.tag;
  if (!remoteTag) return { migrations: { new_tag: newTag, steps: steps(configured) } };
  const at = configured.findIndex((m) => m.tag === remoteTag);
  if (at === -1) {
    return {
      migrations: { old_tag: remoteTag, new_tag: newTag, steps: steps(configured) },
      warning: `The deployed script has migration tag "${remoteTag}", which is not among the configured migrations (it may have been deleted): every configured migration is applied.`,
    };
  }
  if (at === configured.length - 1) return {};
  return { migrations: { old_tag: remoteTag, new_tag: newTag, steps: steps(configured.slice(at + 1)) } };
}

export function createDurableObjectsApi(ctx: ApiContext) {
  const account = async () => `/accounts/${seg(await ctx.accountId())}`;

  const api = {
    /** Every namespace of the account: one per (script, class) a migration created. */
    async listDurableObjectNamespaces(): Promise<DurableObjectNamespace[]> {
      return ctx.list(`${await account()}/workers/durable_objects/namespaces`, DurableObjectNamespaceSchema, {
        paging: "pages",
        query: { per_page: 1000 },
        endpoint: "durable-objects.namespaces.list",
      });
    },

    /** The script as a "service" (its default environment); null when the Worker does not exist. */
    async getWorkerService(script: string): Promise<WorkerService | null> {
      return nullIfMissing(
        ctx.json("GET", `${await account()}/workers/services/${seg(script)}`, WorkerServiceSchema, { endpoint: "workers.services.get" }),
        CF_ERROR.SCRIPT_NOT_FOUND,
        CF_ERROR.SERVICE_NOT_FOUND,
        CF_ERROR.ENVIRONMENT_NOT_FOUND,
      );
    },

    /** The script's Durable Object migration tag; null for a Worker without one, or no Worker. */
    async getMigrationTag(script: string): Promise<string | null> {
      const service = await api.getWorkerService(script);
      return service?.default_environment.script.migration_tag || null;
    },
  };
  return api;
}
