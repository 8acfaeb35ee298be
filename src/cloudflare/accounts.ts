// Who the token is and what it reaches: the calls behind `wrangler whoami`. `/accounts` and
// `/memberships` page to the empty page, as wrangler does.
import type { ApiContext } from "./context.ts";
import { AccountSchema, type Account, MembershipSchema, type Membership, TokenVerifySchema, type TokenVerify } from "./schemas.ts";

export function createAccountsApi(ctx: ApiContext) {
  return {
    /** `GET /user/tokens/verify`: `{id, status}`; code 1000 means an account-owned token. */
    verifyToken(): Promise<TokenVerify> {
      return ctx.json("GET", "/user/tokens/verify", TokenVerifySchema, { endpoint: "user.tokens.verify" });
    },

    listAccounts(): Promise<Account[]> {
      return ctx.list("/accounts", AccountSchema, { paging: "pages", endpoint: "accounts.list" });
    },

    listMemberships(): Promise<Membership[]> {
      return ctx.list("/memberships", MembershipSchema, { paging: "pages", endpoint: "memberships.list" });
    },
  };
}
