// The audit path fails closed: with the audit table refusing every insert (a trigger that RAISEs,
// standing in for a full disk or a broken file), every secret, token and release mutation through
// the API is refused with 503 ERR_AUDIT_UNAVAILABLE and nothing changes; a value is not handed out.
// Real HTTP on 127.0.0.1, real SQLite, the real vault and audit log.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ErrorBody } from "../src/contract/index.ts";
import { call, startApiFixture, type ApiFixture } from "./support/api-fixtures.ts";

let f: ApiFixture;
beforeAll(async () => {
  f = await startApiFixture();
});
afterAll(async () => {
  await f?.close();
});

const BREAK =
  "CREATE TRIGGER audit_down BEFORE INSERT ON audit_entries BEGIN SELECT RAISE(ABORT, 'simulated: audit storage refuses writes'); END;";
const MEND = "DROP TRIGGER audit_down";

/** Everything a refused mutation must leave as it was. */
function state() {
  const db = f.store.db;
  const all = (sql: string) => JSON.stringify(db.prepare(sql).all());
  return {
    secrets: all("SELECT * FROM secrets ORDER BY tenant, name"),
    versions: all("SELECT tenant, name, version, hex(ciphertext) AS c, destroyed_at FROM secret_versions ORDER BY tenant, name, version"),
    tokens: all("SELECT id, revoked_at FROM tokens ORDER BY id"),
    releases: all("SELECT id, status FROM releases ORDER BY id"),
    events: f.store.events.lastId(),
    audit: f.security.audit.head(),
  };
}

describe("audit fails closed", () => {
  it("refuses secret, token and release mutations with 503 and changes nothing", async () => {
    const admin = { token: f.tokens.admin };
    expect((await call(f.url, "PUT", "/v1/secrets/KEPT", { ...admin, json: { value: "kept-value-1" } })).status).toBe(200);
    expect((await call(f.url, "PUT", "/v1/secrets/KEPT", { ...admin, json: { value: "kept-value-2" } })).status).toBe(200);
    const victim = f.store.tokens.create({ name: "victim", role: "viewer" });

    f.store.db.exec(BREAK);
    try {
      const before = state();
      const attempts: Array<[string, string, unknown?]> = [
        ["PUT", "/v1/secrets/NEW", { value: "never-stored-1" }],
        ["PUT", "/v1/secrets/KEPT", { value: "never-stored-2", cas: 2 }],
        ["GET", "/v1/secrets/KEPT/value"],
        ["POST", "/v1/secrets/KEPT/rollback", { to: 1 }],
        ["DELETE", "/v1/secrets/KEPT"],
        ["POST", "/v1/secrets/KEPT/destroy", { versions: [1] }],
        ["POST", "/v1/tokens", { name: "ghost", role: "admin" }],
        ["DELETE", `/v1/tokens/${victim.row.id}`],
        ["POST", "/v1/releases", { worker: "hello" }],
        ["POST", "/v1/workers/hello/rollback", {}],
      ];
      for (const [method, path, json] of attempts) {
        const r = await call<ErrorBody>(f.url, method, path, { ...admin, ...(json ? { json } : {}) });
        expect(r.status, `${method} ${path}`).toBe(503);
        expect(r.body.error.code).toBe("ERR_AUDIT_UNAVAILABLE");
        // Neither the value nor the storage's own words reach the caller.
        expect(r.text).not.toMatch(/kept-value|never-stored|simulated|ghost|cbo_admin_/);
      }
      expect(state()).toEqual(before);
      // The token that was to be revoked still works; the refused token never existed.
      expect((await call(f.url, "GET", "/v1/secrets", { token: victim.token })).status).toBe(200);
      expect(f.store.tokens.list().some((t) => t.name === "ghost")).toBe(false);
      // Reads that change nothing still work, and an auth failure is still a 401 (its entry is lost, and logged).
      expect((await call(f.url, "GET", "/v1/secrets", admin)).status).toBe(200);
      expect((await call(f.url, "GET", "/v1/secrets", { token: "cbo_admin_wrong-token-xxxxxxxx" })).status).toBe(401);
      expect(f.logged.some((l) => l.startsWith("audit: could not record auth.failed"))).toBe(true);
      expect(f.logged.join("\n")).not.toContain("wrong-token");
    } finally {
      f.store.db.exec(MEND);
    }

    // Mended: the same change goes through, and the chain is whole.
    const ok = await call(f.url, "PUT", "/v1/secrets/KEPT", { ...admin, json: { value: "kept-value-3", cas: 2 } });
    expect(ok.body).toEqual({ name: "KEPT", version: 3 });
    expect(await f.security.verify()).toMatchObject({ ok: true });
  });
});
