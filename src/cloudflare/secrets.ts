// Worker secrets. On Cloudflare each change makes a new version deployed at 100%, and is refused
// with code 10215 while the newest version is not the one deployed (see CLOUDFLARE-API.md §2.8):
// that refusal surfaces as ERR_CF_REQUEST with the code in `details.cloudflareErrors`.
import { z } from "zod";
import type { ApiContext } from "./context.ts";
import { SecretSchema, type Secret } from "./schemas.ts";

export function createSecretsApi(ctx: ApiContext) {
  const account = () => ctx.accountId();
  const path = (account_id: string, script: string, rest = "") =>
    `/accounts/${account_id}/workers/scripts/${script}/secrets${rest}`;

  return {
    /** Create or replace one secret (`PUT …/secrets`). SDK. */
    async putSecret(script: string, name: string, value: string): Promise<Secret> {
      const account_id = await account();
      return ctx.viaSdk({ method: "PUT", path: path(account_id, script) }, SecretSchema, (s) =>
        s.workers.scripts.secrets.update(script, { account_id, name, text: value, type: "secret_text" }),
      );
    },

    /** Names and types only; values are never returned. SDK (single page). */
    async listSecrets(script: string): Promise<Secret[]> {
      const account_id = await account();
      return ctx.viaSdkPages({ method: "GET", path: path(account_id, script) }, SecretSchema, (s) =>
        s.workers.scripts.secrets.list(script, { account_id }),
      );
    },

    /** SDK, with `url_encoded=true` as wrangler sends it. */
    async deleteSecret(script: string, name: string): Promise<void> {
      const account_id = await account();
      await ctx.viaSdk({ method: "DELETE", path: path(account_id, script, `/${name}`) }, z.unknown(), (s) =>
        s.workers.scripts.secrets.delete(name, { account_id, script_name: script, url_encoded: true }),
      );
    },

    /**
     * Several changes in one new version: a string sets a secret, `null` deletes it, absent names
     * stay. SDK, with the merge-patch content type the endpoint is defined with (RFC 7396).
     */
    async bulkSecrets(script: string, changes: Record<string, string | null>): Promise<void> {
      const account_id = await account();
      const secrets = Object.fromEntries(
        Object.entries(changes).map(([name, text]) => [
          name,
          text === null ? null : { name, text, type: "secret_text" as const },
        ]),
      );
      await ctx.viaSdk({ method: "PATCH", path: `/accounts/${account_id}/workers/scripts/${script}/secrets-bulk` }, z.unknown(), (s) =>
        s.workers.scripts.secrets.bulkUpdate(
          script,
          { account_id, secrets },
          { headers: { "content-type": "application/merge-patch+json" } },
        ),
      );
    },
  };
}
