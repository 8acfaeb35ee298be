// Bearer parsing, role order and tenant scope, against the real token store (SQLite in memory).
import { describe, expect, it } from "vitest";
import { createStore } from "../store/index.ts";
import { authorize, bearerToken, principalFor } from "./auth.ts";

const codeOf = (fn: () => unknown) => {
  try {
    fn();
    return "ok";
  } catch (e) {
    return (e as { code?: string }).code;
  }
};

describe("auth", () => {
  it("reads `Bearer <token>` only", () => {
    expect(bearerToken(undefined)).toBeUndefined();
    expect(bearerToken("Bearer abc")).toBe("abc");
    expect(bearerToken("bearer   abc ")).toBe("abc");
    expect(codeOf(() => bearerToken("Basic abc"))).toBe("ERR_UNAUTHORIZED");
    expect(codeOf(() => bearerToken("Bearer a b"))).toBe("ERR_UNAUTHORIZED");
  });

  it("turns a live token into its principal and refuses unknown, revoked and expired ones", () => {
    const store = createStore(":memory:");
    const { token, row } = store.tokens.create({ name: "ci", role: "deployer", tenant: "default" });
    expect(principalFor(store.tokens, token)).toEqual({ id: row.id, name: "ci", role: "deployer", tenant: "default" });
    expect(codeOf(() => principalFor(store.tokens, undefined))).toBe("ERR_UNAUTHORIZED");
    expect(codeOf(() => principalFor(store.tokens, "cbo_admin_guess"))).toBe("ERR_UNAUTHORIZED");
    const old = store.tokens.create({ name: "old", role: "admin", expiresAt: new Date(Date.now() - 1000).toISOString() });
    expect(codeOf(() => principalFor(store.tokens, old.token))).toBe("ERR_UNAUTHORIZED");
    store.tokens.revoke(row.id);
    expect(codeOf(() => principalFor(store.tokens, token))).toBe("ERR_UNAUTHORIZED");
    store.close();
  });

  it("orders roles admin > deployer (= agent) > viewer, and keeps tenant-scoped tokens in their tenant", () => {
    const p = (role: "admin" | "deployer" | "viewer" | "agent", tenant: string | null = null) => ({ id: "x", name: "x", role, tenant });
    const table = (["viewer", "deployer", "admin"] as const).map((needed) =>
      (["viewer", "agent", "deployer", "admin"] as const).map((role) => codeOf(() => authorize(p(role), needed, "default"))),
    );
    expect(table).toEqual([
      ["ok", "ok", "ok", "ok"],
      ["ERR_FORBIDDEN", "ok", "ok", "ok"],
      ["ERR_FORBIDDEN", "ERR_FORBIDDEN", "ERR_FORBIDDEN", "ok"],
    ]);
    expect(codeOf(() => authorize(p("admin", "default"), "admin", "default"))).toBe("ok");
    expect(codeOf(() => authorize(p("admin", "acme"), "viewer", "default"))).toBe("ERR_FORBIDDEN");
    expect(() => authorize(p("agent"), "admin", "default")).toThrow("An agent token may not do this; it needs the admin role or higher.");
    expect(() => authorize(p("viewer"), "deployer", "default")).toThrow("A viewer token may not do this;");
  });
});
