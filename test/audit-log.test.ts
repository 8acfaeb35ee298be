// The audit log on a real SQLite file (createStore runs migration 003): the hash chain, fail-closed
// appends inside the caller's transaction, the secret-value guard, tail/search, and checkpoints.
import type { webcrypto } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createAuditLog, createEd25519Signer, entryHash, GENESIS_HASH, keyedHash, type AuditLogOptions } from "../src/audit/index.ts";
import { CboError } from "../src/kit/errors.ts";
import { openDb, tx } from "../src/store/db.ts";
import { createStore, type Store } from "../src/store/index.ts";
import { lineLogger } from "../src/telemetry/index.ts";

const open: Store[] = [];
afterEach(() => {
  for (const s of open.splice(0)) if (s.db.isOpen) s.close();
});

async function newSigner(keyId?: string) {
  const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as unknown as webcrypto.CryptoKeyPair;
  return createEd25519Signer(pair, keyId);
}

async function setup(o: Partial<AuditLogOptions> = {}) {
  const dir = mkdtempSync(join(tmpdir(), "cbo-audit-"));
  const file = join(dir, "orchestrator.sqlite");
  const store = createStore(file);
  open.push(store);
  const signer = o.signer ?? (await newSigner());
  const lines: string[] = [];
  const audit = createAuditLog({ db: store.db, signer, log: lineLogger((l) => lines.push(l)), ...o });
  return { dir, file, store, signer, audit, lines };
}

const entry = (n: number, more: object = {}) => ({
  actor: "token:t1",
  action: "config.publish",
  target: `worker:w${n}`,
  outcome: "ok" as const,
  details: { n },
  ...more,
});

function caught(fn: () => unknown): CboError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CboError);
    return e as CboError;
  }
  throw new Error("expected an error");
}

describe("audit log: hash chain", () => {
  it("appends entries linked by prev_hash, each hashed over its canonical fields", async () => {
    const { store, audit } = await setup();
    const a = audit.append(entry(1));
    const b = audit.append({ actor: "cli", action: "auth.failed", outcome: "denied", tenant: "acme" });
    const c = audit.append(entry(3, { outcome: "error" }));
    expect([a.seq, b.seq, c.seq]).toEqual([1, 2, 3]);
    expect(a.prev_hash).toBe(GENESIS_HASH);
    expect(b.prev_hash).toBe(a.hash);
    expect(c.prev_hash).toBe(b.hash);
    expect(b).toMatchObject({ target: null, tenant: "acme", details: {} });
    for (const e of [a, b, c]) {
      const { hash, ...fields } = e;
      expect(entryHash(fields)).toBe(hash);
    }
    expect(audit.tail(10)).toEqual([a, b, c]);
    expect(audit.head()).toEqual({ seq: 3, hash: c.hash });
    const versions = (store.db.prepare("SELECT version FROM schema_migrations").all() as Array<{ version: number }>).map((r) => r.version);
    expect(versions).toContain(3);
    expect((await audit.verify()).ok).toBe(true);
  });

  it("is append-only for the application: UPDATE and DELETE are refused by the schema", async () => {
    const { store, audit } = await setup();
    audit.append(entry(1));
    expect(() => store.db.exec("UPDATE audit_entries SET action = 'x'")).toThrow(/append-only/);
    expect(() => store.db.exec("DELETE FROM audit_entries")).toThrow(/append-only/);
    await audit.checkpoint();
    expect(() => store.db.exec("DELETE FROM audit_checkpoints")).toThrow(/append-only/);
  });

  it("writes several entries in one transaction with appendMany", async () => {
    const { audit } = await setup();
    const out = audit.appendMany([entry(1), entry(2), entry(3)]);
    expect(out.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(out[2]!.prev_hash).toBe(out[1]!.hash);
    expect(() => audit.appendMany([entry(4), { ...entry(5), outcome: "maybe" as "ok" }])).toThrow(CboError);
    expect(audit.head().seq).toBe(3); // validation runs before anything is written
  });

  it("an unpaired surrogate in actor, target or tenant (stored as U+FFFD) or in details (escaped) keeps the chain intact", async () => {
    const { audit } = await setup();
    const lone = "\ud800";
    const a = audit.append({
      actor: `token:${lone}`,
      action: "release.create",
      target: `worker:${lone}x`,
      tenant: `t${lone}`,
      outcome: "error",
    });
    const b = audit.append({ ...entry(2), details: { note: `a${lone}\udfffb`, [`k${lone}`]: 1 } });
    // What is returned is what was stored: read back, it hashes the same.
    expect(a).toMatchObject({ actor: "token:\ufffd", target: "worker:\ufffdx", tenant: "t\ufffd" });
    expect(audit.tail(2)).toEqual([a, b]);
    expect(await audit.verify()).toMatchObject({ ok: true, checked: 2 });
  });
});

describe("audit log: fails closed", () => {
  const PLANTED = "planted-detail-7c1e";

  it("joins the caller's transaction; when the entry cannot be written, the caller's change rolls back", async () => {
    const { store, audit } = await setup();
    const mutation = () =>
      tx(store.db, () => {
        store.tokens.create({ name: "ci", role: "deployer" });
        audit.append({ actor: "admin", action: "token.create", target: "token:ci", outcome: "ok", details: { reason: PLANTED } });
      });

    store.db.exec("CREATE TRIGGER audit_down BEFORE INSERT ON audit_entries BEGIN SELECT RAISE(ABORT, 'audit storage unavailable'); END;");
    const err = caught(mutation);
    expect(err.code).toBe("ERR_AUDIT_UNAVAILABLE");
    expect([err.status, err.retryable, err.isUserError]).toEqual([503, true, false]);
    expect(JSON.stringify(err.toJSON()) + err.message + String(err.hint)).not.toContain(PLANTED);
    expect(store.tokens.count()).toBe(0); // the mutation was refused with its audit entry
    expect(audit.head().seq).toBe(0);

    store.db.exec("DROP TRIGGER audit_down");
    mutation();
    expect(store.tokens.count()).toBe(1);
    expect(audit.tail(1)[0]).toMatchObject({ seq: 1, action: "token.create" });
  });

  it("appendIn(tx) writes on the caller's own connection and transaction", async () => {
    const { file, store, audit } = await setup();
    const other = openDb(file);
    try {
      const mutate = (fail: boolean) => {
        other.exec("BEGIN IMMEDIATE");
        try {
          other
            .prepare("INSERT INTO tokens (id, name, role, hash, created_at) VALUES (?, 'x', 'viewer', ?, 'now')")
            .run(`t${fail}`, `h${fail}`);
          if (fail) other.exec("CREATE TEMP TRIGGER audit_down BEFORE INSERT ON main.audit_entries BEGIN SELECT RAISE(ABORT, 'no'); END;");
          audit.appendIn(other, entry(1));
          other.exec("COMMIT");
        } catch (e) {
          other.exec("ROLLBACK");
          throw e;
        }
      };
      expect(caught(() => mutate(true)).code).toBe("ERR_AUDIT_UNAVAILABLE");
      expect(store.tokens.count()).toBe(0);
      mutate(false);
      expect(store.tokens.count()).toBe(1);
      expect(audit.head().seq).toBe(1);
      expect(caught(() => audit.appendIn(other, entry(2))).code).toBe("ERR_INTERNAL"); // no transaction open
    } finally {
      other.close();
    }
  });

  it("throws ERR_AUDIT_UNAVAILABLE when the database is closed", async () => {
    const { store, audit } = await setup();
    audit.append(entry(1));
    store.close();
    expect(caught(() => audit.append(entry(2))).code).toBe("ERR_AUDIT_UNAVAILABLE");
    await expect(audit.checkpoint()).rejects.toMatchObject({ code: "ERR_AUDIT_UNAVAILABLE" });
  });

  it("leaves no gap after a caller rolls back for its own reasons", async () => {
    const { store, audit } = await setup();
    audit.append(entry(1));
    expect(() =>
      tx(store.db, () => {
        audit.append(entry(2));
        throw new Error("caller changed its mind");
      }),
    ).toThrow("caller changed its mind");
    const next = audit.append(entry(3));
    expect(next.seq).toBe(2);
    expect((await audit.verify()).ok).toBe(true);
  });
});

describe("audit log: secret values never stored", () => {
  it("rejects secret-looking details with ERR_VALIDATION, stores keyed hashes, and no planted value reaches disk", async () => {
    const { dir, audit } = await setup();
    const planted = ["sv-alpha-0a9f3c", "sv-bravo-5d2e81", "cbo_admin_" + "Q".repeat(30)];
    const auditKey = new Uint8Array(32).fill(9);
    for (const value of planted) {
      const attempts = [
        { value },
        { secret: { plaintext: value } },
        { note: value.startsWith("cbo_") ? value : undefined, password: value },
      ];
      for (const details of attempts) {
        const err = caught(() =>
          audit.append({
            actor: "admin",
            action: "secret.set",
            target: "secret:DB_URL",
            outcome: "ok",
            details: JSON.parse(JSON.stringify(details)),
          }),
        );
        expect(err.code).toBe("ERR_VALIDATION");
        expect(JSON.stringify(err.toJSON()) + err.message).not.toContain(value);
      }
      audit.append({
        actor: "admin",
        action: "secret.set",
        target: "secret:DB_URL",
        outcome: "ok",
        details: { version: 2, valueHash: keyedHash(auditKey, value) },
      });
    }
    expect(audit.head().seq).toBe(3);
    await audit.checkpoint();
    const exported = audit.exportCheckpoints({ include: "all" });
    const files = readdirSync(dir).map((f) => readFileSync(join(dir, f)).toString("latin1"));
    for (const value of planted) {
      for (const bytes of [...files, exported]) expect(bytes.includes(value)).toBe(false);
    }
  });
});

describe("audit log: tail and search", () => {
  it("filters by actor, action prefix, target, tenant, outcome, time and text; pages backwards", async () => {
    let t = Date.parse("2026-03-01T00:00:00.000Z");
    const { audit } = await setup({ now: () => t });
    const add = (e: Parameters<typeof audit.append>[0]) => ((t += 1000), audit.append(e));
    add({ actor: "token:ci", action: "release.create", target: "worker:api", outcome: "ok", details: { note: "50%_rollout" } });
    add({ actor: "token:ci", action: "secret.read", target: "secret:DB_URL", outcome: "denied", tenant: "acme" });
    add({ actor: "admin", action: "secret.rotate", target: "secret:DB_URL", outcome: "ok" });
    add({ actor: "admin", action: "auth.failed", outcome: "denied", details: { ip: "203.0.113.9" } });

    const seqs = (q: Parameters<typeof audit.search>[0]) => audit.search(q).map((e) => e.seq);
    expect(audit.tail(2).map((e) => e.seq)).toEqual([3, 4]);
    expect(seqs({ actor: "token:ci" })).toEqual([1, 2]);
    expect(seqs({ action: "secret.*" })).toEqual([2, 3]);
    expect(seqs({ action: "secret" })).toEqual([]);
    expect(seqs({ target: "secret:DB_URL", outcome: "ok" })).toEqual([3]);
    expect(seqs({ tenant: "acme" })).toEqual([2]);
    expect(seqs({ since: "2026-03-01T00:00:02.000Z", until: "2026-03-01T00:00:03.000Z" })).toEqual([2, 3]);
    expect(seqs({ since: "2026-03-01T01:00:02+01:00" })).toEqual([2, 3, 4]);
    expect(seqs({ text: "203.0.113" })).toEqual([4]);
    expect(seqs({ text: "50%_" })).toEqual([1]);
    expect(seqs({ text: "0%x" })).toEqual([]); // % and _ are literal
    expect(seqs({ limit: 2 })).toEqual([3, 4]);
    expect(seqs({ limit: 2, beforeSeq: 3 })).toEqual([1, 2]);
    expect(caught(() => audit.search({ limit: 0 })).code).toBe("ERR_VALIDATION");
    expect(caught(() => audit.search({ since: "yesterday" })).code).toBe("ERR_VALIDATION");
  });
});

describe("audit log: checkpoints", () => {
  it("signs tree size, Merkle root and head; returns the last one when nothing was added", async () => {
    const seen: number[] = [];
    const t = Date.parse("2026-04-01T12:00:00.000Z");
    const { audit, signer } = await setup({ now: () => t, onCheckpoint: (cp) => void seen.push(cp.tree_size) });
    const empty = await audit.checkpoint();
    expect(empty).toMatchObject({
      tree_size: 0,
      merkle_root: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      key_id: signer.keyId,
    });
    for (let i = 1; i <= 3; i++) audit.append(entry(i));
    const cp = await audit.checkpoint();
    expect(cp).toMatchObject({ tree_size: 3, head_hash: audit.head().hash, at: "2026-04-01T12:00:00.000Z" });
    expect(cp.signature).toMatch(/^[0-9a-f]{128}$/);
    expect(await audit.checkpoint()).toEqual(cp);
    expect(audit.checkpoints().map((c) => c.tree_size)).toEqual([0, 3]);
    expect(seen).toEqual([0, 3]);
    expect(await audit.verify()).toMatchObject({ ok: true, checked: 3, checkpoints: 2 });
  });

  it("takes one automatically after `entries` appends", async () => {
    const { audit } = await setup({ checkpointEvery: { entries: 5, ms: 3_600_000 } });
    const sizes = () => audit.checkpoints().map((c) => c.tree_size);
    for (let i = 1; i <= 4; i++) audit.append(entry(i));
    await new Promise((r) => setTimeout(r, 30));
    expect(sizes()).toEqual([]);
    audit.append(entry(5));
    await vi.waitFor(() => expect(sizes()).toEqual([5]));
    for (let i = 6; i <= 10; i++) {
      audit.append(entry(i));
      await new Promise((r) => setImmediate(r));
    }
    await vi.waitFor(() => expect(sizes()).toEqual([5, 10]));
    expect(await audit.maybeCheckpoint()).toBeUndefined();
  });

  it("takes one when the oldest unsigned entry is `ms` old (injected clock), none while idle", async () => {
    let t = Date.parse("2026-05-01T00:00:00.000Z");
    const { audit } = await setup({ now: () => t, checkpointEvery: { entries: 1000, ms: 60_000 } });
    audit.append(entry(1));
    t += 30_000;
    audit.append(entry(2));
    t += 29_999;
    expect(await audit.maybeCheckpoint()).toBeUndefined();
    t += 1;
    expect(await audit.maybeCheckpoint()).toMatchObject({ tree_size: 2, at: new Date(t).toISOString() });
    t += 3_600_000;
    expect(await audit.maybeCheckpoint()).toBeUndefined(); // idle: nothing new to sign
    audit.append(entry(3));
    t += 60_000;
    expect(await audit.maybeCheckpoint()).toMatchObject({ tree_size: 3 });
  });

  it("start() runs the timer; stop() ends it and covers the remaining entries", async () => {
    let t = Date.parse("2026-05-01T00:00:00.000Z");
    const { audit } = await setup({ now: () => t, checkpointEvery: { entries: 1000, ms: 60_000 }, pollMs: 5 });
    audit.start();
    audit.append(entry(1));
    await new Promise((r) => setTimeout(r, 40));
    expect(audit.checkpoints()).toEqual([]);
    t += 60_000; // only the timer can notice: no append follows
    await vi.waitFor(() => expect(audit.checkpoints().map((c) => c.tree_size)).toEqual([1]));
    audit.append(entry(2));
    await audit.stop();
    expect(audit.checkpoints().map((c) => c.tree_size)).toEqual([1, 2]);
    audit.append(entry(3));
    t += 120_000;
    await new Promise((r) => setTimeout(r, 40));
    expect(audit.checkpoints()).toHaveLength(2); // stopped
    await audit.stop({ checkpoint: false });
    expect(audit.checkpoints()).toHaveLength(2);
  });

  it("refuses to sign over entries altered since the last checkpoint", async () => {
    const { store, audit, lines } = await setup({ checkpointEvery: { entries: 2, ms: 60_000 } });
    audit.append(entry(1));
    await audit.checkpoint();
    audit.append(entry(2));
    store.db.exec("DROP TRIGGER audit_entries_no_update; UPDATE audit_entries SET actor = 'someone-else' WHERE seq = 2;");
    await expect(audit.checkpoint()).rejects.toMatchObject({ code: "ERR_AUDIT_UNAVAILABLE", details: { seq: 2, reason: "hash mismatch" } });
    audit.append(entry(3)); // due by count: the background attempt fails and says so
    await vi.waitFor(() => expect(lines.join("\n")).toMatch(/checkpoint failed: ERR_AUDIT_UNAVAILABLE/));
    expect(audit.checkpoints().map((c) => c.tree_size)).toEqual([1]);
  });

  it("refuses a signer whose signatures its own public key does not verify", async () => {
    const real = await newSigner("k");
    const other = await newSigner("k");
    const { audit } = await setup({ signer: { ...real, publicKey: other.publicKey } });
    audit.append(entry(1));
    await expect(audit.checkpoint()).rejects.toMatchObject({ code: "ERR_INTERNAL" });
    expect(audit.checkpoints()).toEqual([]);
  });
});
