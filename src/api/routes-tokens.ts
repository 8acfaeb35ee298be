// API tokens (admin): list, create (the token is in this one answer and nowhere else, stored only as
// its hash), revoke. Each change and its audit entry commit in one transaction: a change whose entry
// cannot be written does not happen. An admin scoped to a tenant sees and manages that tenant's
// tokens only.
import * as z from "zod";
import { CboError } from "../kit/errors.ts";
import { transaction } from "../kit/transaction.ts";
import type { TokenRow } from "../store/index.ts";
import { actorOf } from "../security/index.ts";
import type { RouteContext } from "./context.ts";
import { route, type RouteDef } from "./route.ts";
import {
  CreatedTokenSchema,
  CreateTokenBodySchema,
  shownText,
  TokenParamsSchema,
  TokenRevokedSchema,
  TokenSchema,
} from "../contract/index.ts";
import type { Principal } from "./types.ts";

const toApi = (t: TokenRow) => ({
  id: t.id,
  name: t.name,
  role: t.role,
  tenant: t.tenant,
  createdAt: t.created_at,
  expiresAt: t.expires_at,
  revokedAt: t.revoked_at,
});
const visibleTo = (p: Principal) => (t: TokenRow) => p.tenant === null || t.tenant === p.tenant;

export function tokenRoutes(ctx: RouteContext): RouteDef[] {
  const { store } = ctx.deps;
  const { trail } = ctx.deps.security;
  return [
    route({
      id: "listTokens",
      method: "get",
      path: "/v1/tokens",
      summary: "API tokens (never the tokens themselves, nor their hashes)",
      role: "admin",
      response: z.array(TokenSchema),
      handle: ({ principal }) => store.tokens.list().filter(visibleTo(principal!)).map(toApi),
    }),
    route({
      id: "createToken",
      method: "post",
      path: "/v1/tokens",
      summary: "Creates an API token; the answer is the only time it is shown",
      role: "admin",
      body: CreateTokenBodySchema,
      response: CreatedTokenSchema,
      errors: [503],
      // The token is shown once: an Idempotency-Key replay is refused rather than kept in the store.
      answerHoldsSecret: true,
      audit: { action: "token.create" },
      handle({ body, principal, tenant }) {
        const p = principal!;
        const scope = body.tenant === undefined ? p.tenant : body.tenant;
        if (p.tenant !== null && scope !== p.tenant) {
          throw new CboError("ERR_FORBIDDEN", `This token is scoped to tenant "${p.tenant}"; it can create tokens for that tenant only.`);
        }
        const expiresAt = body.expiresAt ? new Date(body.expiresAt) : null;
        if (expiresAt && expiresAt.getTime() <= Date.now()) {
          throw new CboError("ERR_VALIDATION", "body.expiresAt is in the past.", {
            details: { issues: [{ path: "body.expiresAt", message: "must be in the future" }] },
          });
        }
        return transaction(store.db, () => {
          const { token, row } = store.tokens.create({
            name: body.name,
            role: body.role,
            tenant: scope,
            expiresAt: expiresAt?.toISOString() ?? null,
          });
          trail.record({
            actor: actorOf(p),
            action: "token.create",
            target: `token:${row.id}`,
            tenant,
            outcome: "ok",
            details: { name: row.name, role: row.role, scope: row.tenant, expiresAt: row.expires_at },
          });
          const { revokedAt: _r, ...shown } = toApi(row);
          return { ...shown, token };
        });
      },
    }),
    route({
      id: "revokeToken",
      method: "delete",
      path: "/v1/tokens/:id",
      summary: "Revokes an API token at once (revoking a revoked token changes nothing)",
      role: "admin",
      params: TokenParamsSchema,
      response: TokenRevokedSchema,
      errors: [404, 503],
      audit: { action: "token.revoke", target: ({ params }) => `token:${params.id}` },
      handle({ params, principal, tenant }) {
        const p = principal!;
        return transaction(store.db, () => {
          const row = store.tokens
            .list()
            .filter(visibleTo(p))
            .find((t) => t.id === params.id);
          if (!row)
            throw new CboError("ERR_NOT_FOUND", `No token with id "${shownText(params.id)}".`, { details: { id: shownText(params.id) } });
          if (store.tokens.revoke(row.id)) {
            trail.record({
              actor: actorOf(p),
              action: "token.revoke",
              target: `token:${row.id}`,
              tenant,
              outcome: "ok",
              details: { name: row.name, role: row.role },
            });
          }
          return { id: row.id, revoked: true as const };
        });
      },
    }),
  ];
}
