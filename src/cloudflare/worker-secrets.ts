// Worker secrets. On Cloudflare each change makes a new version deployed at 100%, and is refused
// with code 10215 while the newest version is not the one deployed (see CLOUDFLARE-API.md §2.8):
// that refusal surfaces as ERR_CF_REQUEST with the code in `details.cloudflareErrors`.
import * as z from "zod";
import { type ApiContext, seg } from "./context.ts";
import { SecretSchema, type Secret } from "./schemas.ts";

export function createSecretsApi(ctx: ApiContext) {
  const path = async (script: string, rest = "") => `/accounts/${seg(await ctx.accountId())}/workers/scripts/${seg(script)}/secrets${rest}`;

  return {
    /** Create or replace one secret (`PUT …/secrets`). */
    async putSecret(script: string, name: string, value: string): Promise<Secret> {
      return ctx.json("PUT", await path(script), SecretSchema, {
        endpoint: "workers.secrets.put",
        body: { name, text: value, type: "secret_text" },
      });
    },

    /** Names and types only; values are never returned. One page. */
    async listSecrets(script: string): Promise<Secret[]> {
      return ctx.list(await path(script), SecretSchema, { paging: "single", endpoint: "workers.secrets.list" });
    },

    /** With `url_encoded=true` as wrangler sends it. */
    async deleteSecret(script: string, name: string): Promise<void> {
      await ctx.json("DELETE", await path(script, `/${seg(name)}`), z.unknown(), {
        endpoint: "workers.secrets.delete",
        query: { url_encoded: true },
      });
    },

    /**
     * Several changes in one new version: a string sets a secret, `null` deletes it, absent names
     * stay. Sent with the merge-patch content type the endpoint is defined with (RFC 7396).
     */
    async bulkSecrets(script: string, changes: Record<string, string | null>): Promise<void> {
      const secrets = Object.fromEntries(
        Object.entries(changes).map(([name, text]) => [name, text === null ? null : { name, text, type: "secret_text" }]),
      );
      await ctx.json("PATCH", `${await path(script)}-bulk`, z.unknown(), {
        endpoint: "workers.secrets.bulk",
        body: { secrets },
        headers: { "content-type": "application/merge-patch+json" },
      });
    },
  };
}
