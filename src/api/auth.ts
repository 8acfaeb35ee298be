// Bearer tokens: checked against the store (hashed at rest), then the role and the tenant. Error
// messages never repeat the token, not even a prefix of it.
import { CboError } from "../kit/errors.ts";
import type { Role, Store } from "../store/index.ts";
import type { Principal } from "./types.ts";

/**
 * admin > deployer > viewer > metrics; an `agent` token acts as a deployer for now. A `metrics`
 * token reads GET /metrics and nothing else (a Prometheus scraper's credential).
 */
export const ROLE_RANK: Record<Role, number> = { metrics: 0, viewer: 1, deployer: 2, agent: 2, admin: 3 };

const BEARER = /^Bearer[ \t]+([^\s]+)[ \t]*$/i;

/** The principal behind `token`, or ERR_UNAUTHORIZED. */
export function principalFor(tokens: Store["tokens"], token: string | undefined | null): Principal {
  if (!token) {
    throw new CboError("ERR_UNAUTHORIZED", "This endpoint needs a bearer token.", {
      hint: "Send `Authorization: Bearer <token>`; the daemon writes its admin token to <data>/admin-token at first start.",
    });
  }
  const row = tokens.verify(token);
  if (!row) throw new CboError("ERR_UNAUTHORIZED", "The bearer token is not valid (unknown, revoked or expired).");
  return { id: row.id, name: row.name, role: row.role, tenant: row.tenant };
}

/** The token in an `Authorization` header value; ERR_UNAUTHORIZED when the header is not a bearer one. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined || header.trim() === "") return undefined;
  const m = BEARER.exec(header);
  if (!m) throw new CboError("ERR_UNAUTHORIZED", "The Authorization header must be `Bearer <token>`.");
  return m[1];
}

/** ERR_FORBIDDEN unless the principal's role is at least `role` and its tenant scope covers `tenant`. */
export function authorize(p: Principal, role: Role, tenant: string): void {
  if (ROLE_RANK[p.role] < ROLE_RANK[role]) {
    throw new CboError(
      "ERR_FORBIDDEN",
      `${/^[aeiou]/.test(p.role) ? "An" : "A"} ${p.role} token may not do this; it needs the ${role} role or higher.`,
      {
        details: { role: p.role, required: role },
      },
    );
  }
  if (p.tenant !== null && p.tenant !== tenant) {
    throw new CboError("ERR_FORBIDDEN", `This token is scoped to tenant "${p.tenant}", not "${tenant}".`);
  }
}
