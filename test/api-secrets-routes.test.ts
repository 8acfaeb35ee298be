// Secrets, tokens, audit and the orchestrator key over real HTTP (127.0.0.1), on a real SQLite
// store with the real vault and audit log (the engine is the API tests' double, see
// support/api-fixtures.ts). Roles per route, check-and-set, and the audit entry of every change.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkpointBody, parseAuditExport, verifyAuditLog, type AuditEntry } from "../src/audit/index.ts";
import { ed25519Verify, hexToBytes, importEd25519PublicJwk, importEd25519PublicKey } from "../src/kit/signing/index.ts";
import type * as z from "zod";
import type {
  AuditCheckpoint,
  AuditEntryResponse,
  CreatedTokenSchema,
  ErrorBody,
  OrchestratorKeySchema,
  Page,
  Release,
  Secret,
  SecretValueSchema,
  SecretWrittenSchema,
  Token,
} from "../src/contract/index.ts";
import type { Role } from "../src/store/index.ts";
import { call, startApiFixture, type ApiFixture, type Refusal } from "./support/api-fixtures.ts";

type SecretWritten = z.infer<typeof SecretWrittenSchema>;
type SecretValue = z.infer<typeof SecretValueSchema>;
/** A check-and-set refusal names the version the secret is at. */
type CasRefusal = Refusal<{ current_version: number; expected_version: number }>;

let f: ApiFixture;
beforeAll(async () => {
  f = await startApiFixture();
});
afterAll(async () => {
  await f?.close();
});

const actor = (role: Role) => {
  const row = f.store.tokens.list().find((t) => t.name === `test ${role}`)!;
  return `token:${row.name}:${row.id}`;
};
/** A "By" as answers show it: the token's name, its id apart. */
const by = (role: Role) => {
  const row = f.store.tokens.list().find((t) => t.name === `test ${role}`)!;
  return { createdBy: row.name, createdByToken: row.id };
};
const as = (role: Role) => ({ token: f.tokens[role] });
const put = <T = SecretWritten>(name: string, value: string, role: Role = "deployer", more: Record<string, unknown> = {}) =>
  call<T>(f.url, "PUT", `/v1/secrets/${name}`, { ...as(role), json: { value, ...more } });
const entries = (q: Record<string, unknown>): AuditEntry[] => f.security.audit.search({ limit: 10_000, ...q });
const versionsOf = (name: string) => f.security.vault.versions(name).map((v) => `${v.version}${v.destroyed ? "x" : ""}`);

describe("secrets: roles per route", () => {
  it("viewer lists but cannot read values or change anything; deployer writes but cannot read, undelete or destroy; admin can all", async () => {
    for (const name of ["R_PUT", "R_ROLL", "R_DEL", "R_UNDEL", "R_DESTROY"]) {
      expect((await put(name, `v1 of ${name}`, "admin")).status).toBe(200);
      expect((await put(name, `v2 of ${name}`, "admin")).status).toBe(200);
    }
    expect((await call(f.url, "DELETE", "/v1/secrets/R_UNDEL", as("admin"))).status).toBe(200);
    const routes: Array<[string, string, unknown?]> = [
      ["GET", "/v1/secrets"],
      ["GET", "/v1/secrets/R_PUT/versions"],
      ["PUT", "/v1/secrets/R_PUT", { value: "v3 of R_PUT" }],
      ["GET", "/v1/secrets/R_PUT/value"],
      ["POST", "/v1/secrets/R_ROLL/rollback", { to: 1 }],
      ["DELETE", "/v1/secrets/R_DEL"],
      ["POST", "/v1/secrets/R_UNDEL/undelete"],
      ["POST", "/v1/secrets/R_DESTROY/destroy", { versions: [1] }],
    ];
    const table: Record<string, string[]> = {};
    for (const role of ["viewer", "agent", "deployer"] as const) {
      const before = ["R_PUT", "R_ROLL", "R_DEL", "R_UNDEL", "R_DESTROY"].map((n) => JSON.stringify(f.security.vault.info(n)));
      const row: string[] = [];
      for (const [method, path, json] of routes) {
        const r = await call<ErrorBody>(f.url, method, path, { ...as(role), ...(json ? { json } : {}) });
        row.push(String(r.status));
        if (r.status === 403) expect(r.body.error.code).toBe("ERR_FORBIDDEN");
        // A refused reader never sees the value.
        if (path.endsWith("/value") && r.status !== 200) expect(r.text).not.toContain("of R_PUT");
      }
      table[role] = row;
      if (role === "viewer")
        expect(["R_PUT", "R_ROLL", "R_DEL", "R_UNDEL", "R_DESTROY"].map((n) => JSON.stringify(f.security.vault.info(n)))).toEqual(before);
    }
    expect(table).toEqual({
      viewer: ["200", "200", "403", "403", "403", "403", "403", "403"],
      agent: ["200", "200", "200", "403", "200", "200", "403", "403"],
      deployer: ["200", "200", "200", "403", "200", "200", "403", "403"],
    });
    const admin: string[] = [];
    for (const [method, path, json] of routes)
      admin.push(String((await call(f.url, method, path, { ...as("admin"), ...(json ? { json } : {}) })).status));
    // DELETE of R_DEL is idempotent for admin (already deleted by the deployer).
    expect(admin).toEqual(["200", "200", "200", "200", "200", "200", "200", "200"]);
    // Each role denial is on the record as auth.denied, with who and what it needed.
    const denied = entries({ action: "auth.denied", actor: actor("viewer") });
    expect(denied.length).toBe(6);
    expect(denied[0]!.details).toMatchObject({ role: "viewer", required: expect.any(String) });
    expect((await call(f.url, "GET", "/v1/secrets")).status).toBe(401);
  });
});

describe("secrets: values, versions, check-and-set", () => {
  it("PUT answers the version only; list and versions carry metadata only; GET …/value returns the value", async () => {
    const w = await put("DB_URL", "postgres://u:pw-1@db/x", "deployer", { cas: 0, mode: "relay", jurisdictions: ["eu"] });
    expect(w).toMatchObject({ status: 200, body: { name: "DB_URL", version: 1 } });
    expect(w.text).not.toContain("pw-1");
    const list = await call<Secret[]>(f.url, "GET", "/v1/secrets", as("viewer"));
    expect(list.body.find((s) => s.name === "DB_URL")).toEqual({
      name: "DB_URL",
      version: 1,
      mode: "relay",
      jurisdictions: ["eu"],
      deleted: false,
      updatedAt: expect.any(String),
    });
    expect(list.text).not.toContain("pw-1");
    const versions = await call(f.url, "GET", "/v1/secrets/DB_URL/versions", as("viewer"));
    expect(versions.body).toEqual([{ version: 1, createdAt: expect.any(String), ...by("deployer"), destroyed: false }]);
    const read = await call(f.url, "GET", "/v1/secrets/DB_URL/value", as("admin"));
    expect(read.body).toEqual({ name: "DB_URL", version: 1, value: "postgres://u:pw-1@db/x", encoding: "utf8" });
  });

  it("a jurisdiction no target has is written all the same, with a warning naming the targets' jurisdictions and the likely one", async () => {
    // The fixture's targets: eu (jurisdiction eu), us and ap (none).
    const typo = await put("JUR_TYPO", "v", "deployer", { jurisdictions: ["euu", "eu", "mars", "mars"] });
    expect(typo.status).toBe(200);
    expect(typo.body).toEqual({
      name: "JUR_TYPO",
      version: 1,
      warnings: [
        'no target in orchestrator.yaml has jurisdiction "euu" (the targets have eu), so JUR_TYPO reaches no target through it; did you mean "eu"?',
        'no target in orchestrator.yaml has jurisdiction "mars" (the targets have eu), so JUR_TYPO reaches no target through it',
      ],
    });
    // Written as asked: a target in mars may be declared later.
    expect(f.security.vault.info("JUR_TYPO").jurisdictions).toEqual(["eu", "euu", "mars"]);
    // Known tags, or none: no warnings field at all.
    expect((await put("JUR_OK", "v", "deployer", { jurisdictions: ["eu"] })).body).toEqual({ name: "JUR_OK", version: 1 });
    expect((await put("JUR_OK", "v2")).body).toEqual({ name: "JUR_OK", version: 2 });
  });

  it("binary values round-trip as base64; invalid base64 is 400 without echoing it", async () => {
    const bytes = Buffer.from([0xff, 0x00, 0xfe, 0x80, 0x41]);
    expect((await put("BLOB", bytes.toString("base64"), "deployer", { encoding: "base64" })).body.version).toBe(1);
    const r = await call(f.url, "GET", "/v1/secrets/BLOB/value", as("admin"));
    expect(r.body).toMatchObject({ encoding: "base64", value: bytes.toString("base64") });
    expect((await call<SecretValue>(f.url, "GET", "/v1/secrets/BLOB/value?encoding=base64", as("admin"))).body.value).toBe(
      bytes.toString("base64"),
    );
    const bad = await put("BLOB", "not*base64-SECRETISH", "deployer", { encoding: "base64" });
    expect(bad.status).toBe(400);
    expect(bad.text).not.toContain("SECRETISH");
    expect(versionsOf("BLOB")).toEqual(["1"]);
  });

  it("a stale cas is 409 with the current version, and nothing is written; concurrent writers with the same cas: one wins", async () => {
    expect((await put("CAS", "a", "deployer", { cas: 0 })).body.version).toBe(1);
    const head = f.security.audit.head();
    const again = await put<CasRefusal>("CAS", "b", "deployer", { cas: 0 });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: "ERR_CONFLICT", details: { current_version: 1, expected_version: 0 } });
    expect(versionsOf("CAS")).toEqual(["1"]);
    // Only the failed attempt was recorded, as an error, with no value hash.
    const after = entries({ beforeSeq: 1e9 }).filter((e) => e.seq > head.seq);
    expect(after.map((e) => [e.action, e.outcome, e.details])).toEqual([["secret.put", "error", { code: "ERR_CONFLICT" }]]);

    const racers = await Promise.all(
      ["x", "y", "z"].map((v) => put<Partial<SecretWritten & CasRefusal>>("CAS", v, "deployer", { cas: 1 })),
    );
    expect(racers.map((r) => r.status).sort()).toEqual([200, 409, 409]);
    expect(versionsOf("CAS")).toEqual(["1", "2"]);
    const winner = racers.find((r) => r.status === 200)!;
    expect(winner.body.version).toBe(2);
    for (const loser of racers.filter((r) => r.status === 409)) expect(loser.body.error?.details.current_version).toBe(2);

    expect((await call(f.url, "DELETE", "/v1/secrets/CAS?cas=1", as("deployer"))).status).toBe(409);
    expect((await call(f.url, "POST", "/v1/secrets/CAS/rollback", { ...as("deployer"), json: { to: 1, cas: 1 } })).status).toBe(409);
    expect(f.security.vault.info("CAS")).toMatchObject({ version: 2, deleted: false });
  });

  it("rollback, delete, undelete and destroy do what they say, each recorded with its actor", async () => {
    await put("LIFE", "one");
    await put("LIFE", "two");
    expect((await call(f.url, "POST", "/v1/secrets/LIFE/rollback", { ...as("deployer"), json: { to: 1 } })).body).toEqual({
      name: "LIFE",
      version: 3,
    });
    expect((await call(f.url, "GET", "/v1/secrets/LIFE/value", as("admin"))).body).toMatchObject({ version: 3, value: "one" });
    expect((await call(f.url, "DELETE", "/v1/secrets/LIFE?cas=3", as("deployer"))).body).toEqual({ name: "LIFE", deleted: true });
    expect((await call(f.url, "GET", "/v1/secrets/LIFE/value", as("admin"))).status).toBe(404);
    expect((await put("LIFE", "three")).status).toBe(409);
    expect((await call(f.url, "POST", "/v1/secrets/LIFE/undelete", as("admin"))).body).toEqual({ name: "LIFE", deleted: false });
    expect((await call(f.url, "POST", "/v1/secrets/LIFE/destroy", { ...as("admin"), json: { versions: [1, 2] } })).body).toEqual({
      name: "LIFE",
      destroyed: [1, 2],
    });
    expect((await call(f.url, "GET", "/v1/secrets/LIFE/value?version=1", as("admin"))).status).toBe(404);
    expect((await call<SecretValue>(f.url, "GET", "/v1/secrets/LIFE/value", as("admin"))).body.value).toBe("one");

    const log = entries({ target: "secret:LIFE" });
    expect(log.map((e) => [e.action, e.actor, e.outcome])).toEqual([
      ["secret.put", actor("deployer"), "ok"],
      ["secret.put", actor("deployer"), "ok"],
      ["secret.read", actor("deployer"), "ok"], // the rollback reads version 1 to copy it
      ["secret.rollback", actor("deployer"), "ok"],
      ["secret.read", actor("admin"), "ok"],
      ["secret.delete", actor("deployer"), "ok"],
      ["secret.read", actor("admin"), "error"],
      ["secret.put", actor("deployer"), "error"],
      ["secret.undelete", actor("admin"), "ok"],
      ["secret.destroy", actor("admin"), "ok"],
      ["secret.read", actor("admin"), "error"],
      ["secret.read", actor("admin"), "ok"],
    ]);
    const [put1, , readForRollback, rollback, read3] = log;
    expect(put1!.details).toMatchObject({ version: 1, valueHash: expect.stringMatching(/^[0-9a-f]{64}$/), mode: "relay" });
    expect(readForRollback!.details).toMatchObject({ version: 1, purpose: "rollback" });
    // The keyed hash ties a read to the write of the same value, without the value.
    expect(rollback!.details).toMatchObject({ version: 3, fromVersion: 1, valueHash: put1!.details.valueHash });
    expect(read3!.details).toMatchObject({ version: 3, purpose: "get", valueHash: put1!.details.valueHash });
    expect(log.every((e) => e.tenant === "default")).toBe(true);
  });

  it("the orchestrator's own secrets are neither listed nor reachable, even for an admin", async () => {
    const list = await call<Secret[]>(f.url, "GET", "/v1/secrets", as("admin"));
    expect(list.body.map((s) => s.name)).not.toContain("__orchestrator_signing_key");
    expect(f.security.vault.info("__orchestrator_signing_key").version).toBe(1);
    for (const [method, path, json] of [
      ["GET", "/v1/secrets/__orchestrator_signing_key/value"],
      ["GET", "/v1/secrets/__orchestrator_signing_key/versions"],
      ["PUT", "/v1/secrets/__orchestrator_signing_key", { value: "x" }],
      ["DELETE", "/v1/secrets/__orchestrator_signing_key"],
      ["POST", "/v1/secrets/__orchestrator_signing_key/destroy", {}],
    ] as const) {
      const r = await call(f.url, method, path, { ...as("admin"), ...(json ? { json } : {}) });
      expect(r.status, `${method} ${path}`).toBe(403);
    }
    expect(f.security.vault.info("__orchestrator_signing_key")).toMatchObject({ version: 1, deleted: false, destroyed: false });
  });
});

describe("tokens", () => {
  it("an admin creates a token (shown once), lists it without secrets, revokes it; each change is audited", async () => {
    const created = await call<z.infer<typeof CreatedTokenSchema>>(f.url, "POST", "/v1/tokens", {
      ...as("admin"),
      json: { name: "ci", role: "deployer", expiresAt: new Date(Date.now() + 86_400_000).toISOString() },
    });
    expect(created.status).toBe(200);
    const { token, id } = created.body;
    expect(token).toMatch(/^cbo_deployer_/);
    expect(created.body).toMatchObject({ name: "ci", role: "deployer", tenant: null, expiresAt: expect.any(String) });
    expect((await put("FROM_CI", "v", "deployer", {})).status).toBe(200);
    expect((await call(f.url, "PUT", "/v1/secrets/FROM_CI", { token, json: { value: "w" } })).status).toBe(200);

    const list = await call<Token[]>(f.url, "GET", "/v1/tokens", as("admin"));
    expect(list.body.find((t) => t.id === id)).toEqual({
      id,
      name: "ci",
      role: "deployer",
      tenant: null,
      createdAt: expect.any(String),
      expiresAt: expect.any(String),
      revokedAt: null,
    });
    expect(list.text).not.toContain(token);
    expect(list.text).not.toContain(createHash("sha256").update(token).digest("hex"));
    expect(list.text).not.toMatch(/cbo_(admin|deployer|viewer|agent)_/);

    expect((await call(f.url, "DELETE", `/v1/tokens/${id}`, as("admin"))).body).toEqual({ id, revoked: true });
    expect((await call(f.url, "DELETE", `/v1/tokens/${id}`, as("admin"))).body).toEqual({ id, revoked: true });
    expect((await call(f.url, "GET", "/v1/secrets", { token })).status).toBe(401);
    expect((await call(f.url, "DELETE", "/v1/tokens/no-such-id", as("admin"))).status).toBe(404);

    const log = entries({ target: `token:${id}` });
    expect(log.map((e) => [e.action, e.actor, e.outcome])).toEqual([
      ["token.create", actor("admin"), "ok"],
      ["token.revoke", actor("admin"), "ok"],
    ]);
    expect(log[0]!.details).toEqual({ name: "ci", role: "deployer", scope: null, expiresAt: expect.any(String) });
    expect(JSON.stringify(entries({}))).not.toContain(token);
  });

  it("only admins manage tokens; bad input is 400; a tenant-scoped admin stays in its tenant", async () => {
    for (const role of ["viewer", "deployer", "agent"] as const) {
      expect((await call(f.url, "GET", "/v1/tokens", as(role))).status).toBe(403);
      expect((await call(f.url, "POST", "/v1/tokens", { ...as(role), json: { name: "x", role: "admin" } })).status).toBe(403);
    }
    const before = f.store.tokens.count();
    for (const json of [
      { name: "old", role: "viewer", expiresAt: "2001-01-01T00:00:00Z" },
      { name: "cbo_admin_lookalike", role: "viewer" },
      { name: "x", role: "root" },
      { name: "x", role: "viewer", extra: 1 },
    ])
      expect((await call(f.url, "POST", "/v1/tokens", { ...as("admin"), json })).status).toBe(400);
    expect(f.store.tokens.count()).toBe(before);

    const scoped = f.store.tokens.create({ name: "tenant admin", role: "admin", tenant: "default" }).token;
    expect((await call(f.url, "POST", "/v1/tokens", { token: scoped, json: { name: "u", role: "viewer", tenant: null } })).status).toBe(
      403,
    );
    const own = await call<Token>(f.url, "POST", "/v1/tokens", { token: scoped, json: { name: "u", role: "viewer" } });
    expect(own.body.tenant).toBe("default");
    const visible = (await call<Token[]>(f.url, "GET", "/v1/tokens", { token: scoped })).body;
    expect(visible.every((t) => t.tenant === "default")).toBe(true);
    const unscoped = f.store.tokens.list().find((t) => t.name === "test admin")!;
    expect((await call(f.url, "DELETE", `/v1/tokens/${unscoped.id}`, { token: scoped })).status).toBe(404);
  });
});

describe("audit and the orchestrator key", () => {
  it("searches newest first with filters; deployers and admins only", async () => {
    const r = await call<Page<AuditEntryResponse>>(f.url, "GET", "/v1/audit?action=secret.*&limit=5", as("admin"));
    expect(r.status).toBe(200);
    expect(r.body.items).toHaveLength(5);
    const seqs = r.body.items.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a: number, b: number) => b - a));
    expect(r.body.items.every((e) => e.action.startsWith("secret."))).toBe(true);
    const older = await call<Page<AuditEntryResponse>>(
      f.url,
      "GET",
      `/v1/audit?action=secret.*&limit=5&beforeSeq=${seqs.at(-1)}`,
      as("admin"),
    );
    expect(Math.max(...older.body.items.map((e) => e.seq))).toBeLessThan(seqs.at(-1)!);
    // The cursor pages on from the same place.
    const next = await call<Page<AuditEntryResponse>>(f.url, "GET", `/v1/audit?action=secret.*&limit=5&cursor=${r.body.next}`, as("admin"));
    expect(next.body.items).toEqual(older.body.items);
    expect(
      (
        await call<Page<AuditEntryResponse>>(
          f.url,
          "GET",
          `/v1/audit?actor=${encodeURIComponent(actor("admin"))}&action=token.create`,
          as("admin"),
        )
      ).body.items.length,
    ).toBeGreaterThan(0);
    expect((await call(f.url, "GET", "/v1/audit?since=yesterday", as("admin"))).status).toBe(400);
    // Searching is for deployers (and agents) too; checkpoints, export and verify stay admin's.
    expect((await call(f.url, "GET", "/v1/audit", as("viewer"))).status).toBe(403);
    expect((await call(f.url, "GET", "/v1/audit", as("deployer"))).status).toBe(200);
    for (const role of ["viewer", "deployer"] as const) {
      for (const path of ["/v1/audit/checkpoints", "/v1/audit/export"]) expect((await call(f.url, "GET", path, as(role))).status).toBe(403);
      expect((await call(f.url, "POST", "/v1/audit/verify", as(role))).status).toBe(403);
    }
  });

  it("the public key verifies a checkpoint's signature, and the export verifies offline with it", async () => {
    const cp = await f.security.audit.checkpoint();
    const key = await call<z.infer<typeof OrchestratorKeySchema>>(f.url, "GET", "/v1/keys/orchestrator", as("viewer"));
    expect(key.body).toMatchObject({ keyId: cp.key_id, jwk: { kty: "OKP", crv: "Ed25519", x: key.body.publicKey, kid: cp.key_id } });
    const fromRaw = await importEd25519PublicKey(key.body.publicKey);
    const fromJwk = await importEd25519PublicJwk(key.body.jwk);
    const listed = (await call<AuditCheckpoint[]>(f.url, "GET", "/v1/audit/checkpoints", as("admin"))).body;
    expect(listed.at(-1)).toEqual(cp);
    for (const k of [fromRaw, fromJwk]) {
      expect(await ed25519Verify(k, checkpointBody(cp), hexToBytes(cp.signature))).toBe(true);
      expect(await ed25519Verify(k, checkpointBody({ ...cp, tree_size: cp.tree_size + 1 }), hexToBytes(cp.signature))).toBe(false);
    }

    const exp = await fetch(`${f.url}/v1/audit/export`, { headers: { authorization: `Bearer ${f.tokens.admin}` } });
    expect(exp.headers.get("content-type")).toMatch(/^application\/x-ndjson/);
    const parsed = parseAuditExport(await exp.text());
    expect(parsed.entries.length).toBe(f.security.audit.head().seq);
    const publicKey = Buffer.from(key.body.publicKey, "base64url");
    expect(await verifyAuditLog({ entries: parsed.entries, checkpoints: parsed.checkpoints, publicKey })).toMatchObject({ ok: true });
    const checkpointsOnly = parseAuditExport((await call(f.url, "GET", "/v1/audit/export?include=checkpoints", as("admin"))).text);
    expect(checkpointsOnly.entries).toEqual([]);
    expect(checkpointsOnly.checkpoints.length).toBe(listed.length);

    const verified = await call(f.url, "POST", "/v1/audit/verify", as("admin"));
    expect(verified.body).toMatchObject({ ok: true, checked: expect.any(Number), checkpoints: listed.length });
    expect(entries({ action: "audit.verify" }).at(-1)).toMatchObject({ actor: actor("admin"), outcome: "ok" });
  });
});

describe("releases are audited too", () => {
  it("a release request is recorded before the engine runs it, and the engine's events follow", async () => {
    const r = await call<Release>(f.url, "POST", "/v1/releases", { ...as("deployer"), json: { worker: "hello" } });
    expect(r.status).toBe(202);
    const again = await call(f.url, "POST", "/v1/releases", { ...as("deployer"), json: { worker: "hello" } });
    expect(again.status).toBe(409);
    const api = entries({ action: "release.create" });
    expect(api.map((e) => [e.actor, e.outcome, e.details.stage ?? e.details.code])).toEqual([
      [actor("deployer"), "ok", "requested"],
      [actor("deployer"), "ok", "started"],
      [actor("deployer"), "ok", "requested"],
      [actor("deployer"), "error", "ERR_CONFLICT"],
    ]);
    expect(api[1]!.details.releaseId).toBe(r.body.id);
    expect(entries({ action: "release.created" })).toEqual([
      expect.objectContaining({ actor: "engine", target: `release:${r.body.id}`, details: expect.objectContaining({ worker: "hello" }) }),
    ]);
    expect((await call(f.url, "POST", `/v1/releases/${r.body.id}/abort`, as("deployer"))).status).toBe(200);
    expect(entries({ target: `release:${r.body.id}` }).map((e) => e.action)).toEqual([
      "release.created",
      "release.abort",
      "release.aborted",
      "release.abort",
    ]);
  });
});
