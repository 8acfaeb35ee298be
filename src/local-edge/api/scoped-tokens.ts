// Extra API tokens scoped to accounts, so that the local edge can stand in for a fleet spread over
// several Cloudflare accounts, each with its own token (a target's `api_token_secret`). The edge's
// own token reaches every account and every admin route; a scoped token reaches only its accounts:
// an account-scoped call to another account is refused as Cloudflare refuses a token without
// permission there (HTTP 403, code 10000 "Authentication error"), and GET /accounts lists only its
// own. Registered with `PUT /__edge/tokens {"token", "accounts": [ids]}` (edge token); in memory.
import { createHash, timingSafeEqual } from "node:crypto";

const hash = (token: string) => createHash("sha256").update(token).digest();

export type ScopedTokens = ReturnType<typeof createScopedTokens>;

export function createScopedTokens() {
  // By the token's hash: the tokens themselves are not kept.
  const scopes = new Map<string, { digest: Buffer; accounts: Set<string> }>();
  return {
    set(token: string, accounts: string[]): void {
      const digest = hash(token);
      scopes.set(digest.toString("hex"), { digest, accounts: new Set(accounts) });
    },
    /** The accounts a registered token reaches; undefined for a token that is not one of these. */
    accountsOf(token: string): Set<string> | undefined {
      const digest = hash(token);
      const found = scopes.get(digest.toString("hex"));
      return found && timingSafeEqual(found.digest, digest) ? found.accounts : undefined;
    },
  };
}
