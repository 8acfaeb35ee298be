// Who the token is and what it reaches: the calls behind `wrangler whoami`. All SDK, which pages
// `/accounts` and `/memberships` to the empty page.
import type { ApiContext } from "./context.ts";
import { AccountSchema, type Account, MembershipSchema, type Membership, TokenVerifySchema, type TokenVerify } from "./schemas.ts";

export function createAccountsApi(ctx: ApiContext) {
  return {
    /** `GET /user/tokens/verify`: `{id, status}`; code 1000 means an account-owned token. */
    verifyToken(): Promise<TokenVerify> {
      return ctx.viaSdk({ method: "GET", path: "/user/tokens/verify" }, TokenVerifySchema, (s) => s.user.tokens.verify());
    },

    listAccounts(): Promise<Account[]> {
      return ctx.viaSdkPages({ method: "GET", path: "/accounts" }, AccountSchema, (s) => s.accounts.list());
    },

    listMemberships(): Promise<Membership[]> {
      return ctx.viaSdkPages({ method: "GET", path: "/memberships" }, MembershipSchema, (s) => s.memberships.list());
    },
  };
}
