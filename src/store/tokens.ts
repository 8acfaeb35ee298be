// API tokens: stored as SHA-256 hashes (the token is random and long, so a plain hash is enough;
// it is shown once at creation and never stored).
import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { Role } from "../contract/index.ts";
import { nowIso, type Db } from "./db.ts";

export type { Role };
export type TokenRow = {
  id: string;
  tenant: string | null;
  name: string;
  role: Role;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
};

export const hashToken = (token: string) => createHash("sha256").update(token).digest("hex");

export function createTokenStore(db: Db) {
  return {
    /** Creates a token and returns it in clear, once. */
    create(opts: { name: string; role: Role; tenant?: string | null; expiresAt?: string | null }): { token: string; row: TokenRow } {
      const token = `cbo_${opts.role}_${randomBytes(24).toString("base64url")}`;
      const row: TokenRow = {
        id: randomUUID(),
        tenant: opts.tenant ?? null,
        name: opts.name,
        role: opts.role,
        created_at: nowIso(),
        expires_at: opts.expiresAt ?? null,
        revoked_at: null,
      };
      db.prepare(
        "INSERT INTO tokens (id, tenant, name, role, hash, created_at, expires_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
      ).run(row.id, row.tenant, row.name, row.role, hashToken(token), row.created_at, row.expires_at);
      return { token, row };
    },
    /** The live token matching this secret, if any. */
    verify(token: string, now = new Date()): TokenRow | undefined {
      const row = db
        .prepare("SELECT id, tenant, name, role, created_at, expires_at, revoked_at FROM tokens WHERE hash = ?")
        .get(hashToken(token)) as TokenRow | undefined;
      if (!row || row.revoked_at) return undefined;
      if (row.expires_at && new Date(row.expires_at) <= now) return undefined;
      return row;
    },
    list(): TokenRow[] {
      return db
        .prepare("SELECT id, tenant, name, role, created_at, expires_at, revoked_at FROM tokens ORDER BY created_at")
        .all() as TokenRow[];
    },
    revoke(id: string): boolean {
      return db.prepare("UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL").run(nowIso(), id).changes > 0;
    },
    count(): number {
      return Number((db.prepare("SELECT COUNT(*) AS n FROM tokens").get() as { n: number }).n);
    },
  };
}
export type TokenStore = ReturnType<typeof createTokenStore>;
