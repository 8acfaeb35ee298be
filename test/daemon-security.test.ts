// The real daemon (startDaemon) on a real data directory: where its master key comes from, the
// orchestrator's signing key kept in the vault across restarts, the audit log's checkpoints shipped
// to <data>/audit-checkpoints.jsonl (by the timer and at close), and the log verified offline
// against that file with the published public key. The edge is never called: the spec has one
// local target and no workers, so nothing is released or probed.
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditSource, readAuditExport, verifyAuditLog } from "../src/audit/index.ts";
import { startDaemon, type Daemon, type DaemonOptions } from "../src/daemon.ts";
import { UNREACHABLE_EDGE as EDGE } from "./support/daemon-rig.ts";
import type { SecretValueSchema } from "../src/contract/index.ts";
import type * as z from "zod";
import { call } from "./support/api-fixtures.ts";
import { makeTempDir } from "./support/edge.ts";

// A stand-in for the local edge's address book only: with no workers nothing ever calls it.

let dir: string;
const data = () => join(dir, "data");
const keyFile = () => join(data(), "master.key");
const checkpointsFile = () => join(data(), "audit-checkpoints.jsonl");
const start = (more: Partial<DaemonOptions> = {}) =>
  startDaemon({ dataDir: data(), configFile: join(dir, "orchestrator.yaml"), port: 0, edge: EDGE, log: () => {}, env: {}, ...more });
const adminToken = () => readFileSync(join(data(), "admin-token"), "utf8").trim();
const codeOf = async (p: Promise<unknown>) =>
  p.then(
    () => "started",
    (e: { code?: string; message: string; hint?: string }) => e,
  );

beforeAll(async () => {
  dir = await makeTempDir("daemon-security");
  writeFileSync(join(dir, "orchestrator.yaml"), "version: 1\ntargets:\n  - { name: eu, api: local }\n");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The stored log against the shipped checkpoint file, as `cbo audit verify` does it: no daemon, read-only. */
async function verifyOffline(publicKey: string) {
  const db = new DatabaseSync(join(data(), "orchestrator.sqlite"), { readOnly: true });
  try {
    const shipped = readAuditExport(checkpointsFile()).checkpoints;
    const head = (db.prepare("SELECT MAX(seq) AS n FROM audit_entries").get() as { n: number }).n;
    const result = await verifyAuditLog({
      entries: auditSource(db).entries(),
      checkpoints: shipped,
      publicKey: Buffer.from(publicKey, "base64url"),
    });
    return { result, head, shipped };
  } finally {
    db.close();
  }
}

describe("master key sources", () => {
  it("refuses to start with no master key, or with two, saying how to give one", async () => {
    const none = await codeOf(start());
    expect(none).toMatchObject({ code: "ERR_VALIDATION", hint: expect.stringContaining("CBO_MASTER_KEY") });
    const file = join(dir, "other.key");
    writeFileSync(file, randomBytes(32).toString("base64") + "\n", { mode: 0o600 });
    const two = await codeOf(start({ env: { CBO_MASTER_KEY: randomBytes(32).toString("base64") }, masterKeyFile: file }));
    expect(two).toMatchObject({ code: "ERR_VALIDATION", message: expect.stringContaining("configured twice") });
    expect(existsSync(join(data(), "daemon.json"))).toBe(false);
  });
});

describe("daemon security wiring", () => {
  let d: Daemon | undefined;
  afterAll(async () => {
    await d?.close();
  });

  it("first start: creates the key file (0600), keeps its signing key in the vault, audits its own start", async () => {
    d = await start({ fallbackMasterKeyFile: keyFile(), auditCheckpointEvery: { ms: 200 } });
    expect(statSync(keyFile()).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(join(data(), "orchestrator-key.json"), "utf8"))).toEqual(d.orchestratorKey);
    const key = await call(d.url, "GET", "/v1/keys/orchestrator", { token: adminToken() });
    expect(key.body).toEqual(d.orchestratorKey);
    // The private key is a vault secret: sealed, never in clear in the table.
    const row = d.store.db.prepare("SELECT current_version, mode FROM secrets WHERE name = '__orchestrator_signing_key'").get();
    expect(row).toEqual({ current_version: 1, mode: "relay" });
    const first = d.security.audit.search({ limit: 10 });
    expect(first.map((e) => [e.actor, e.action, e.target])).toEqual([
      ["daemon", "secret.put", "secret:__orchestrator_signing_key"],
      ["daemon", "token.create", expect.stringMatching(/^token:/)],
      ["daemon", "daemon.start", "daemon"],
    ]);
  });

  it("ships a signed checkpoint soon after a change (timer), and one more at close, that verify offline", async () => {
    const put = await call(d!.url, "PUT", "/v1/secrets/API_KEY", { token: adminToken(), json: { value: "daemon-test-value-1" } });
    expect(put.status).toBe(200);
    const head = d!.security.audit.head().seq;
    const deadline = Date.now() + 5_000;
    let shipped: number[] = [];
    while (Date.now() < deadline) {
      shipped = existsSync(checkpointsFile())
        ? readAuditExport(checkpointsFile()).checkpoints.map((c) => ("signature" in c ? c.tree_size : -1))
        : [];
      if (shipped.includes(head)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(shipped).toContain(head);
    await call(d!.url, "GET", "/v1/secrets/API_KEY/value", { token: adminToken() });
    const publicKey = d!.orchestratorKey.publicKey;
    // close() records daemon.stop, then signs the last checkpoint over it.
    const headAtClose = d!.security.audit.head().seq + 1;
    await d!.close();
    d = undefined;
    const { result, head: stored, shipped: cps } = await verifyOffline(publicKey);
    expect(stored).toBe(headAtClose);
    expect(cps.at(-1)).toMatchObject({ tree_size: headAtClose });
    expect(result).toMatchObject({ ok: true, checked: headAtClose });
  });

  it("restart: same signing key (read from the vault, audited), secrets still readable, the chain continues", async () => {
    const before = JSON.parse(readFileSync(join(data(), "orchestrator-key.json"), "utf8"));
    d = await start({ fallbackMasterKeyFile: keyFile() });
    expect(d.orchestratorKey).toEqual(before);
    expect(
      (await call<z.infer<typeof SecretValueSchema>>(d.url, "GET", "/v1/secrets/API_KEY/value", { token: adminToken() })).body.value,
    ).toBe("daemon-test-value-1");
    expect(d.security.audit.search({ actor: "daemon", action: "secret.read" }).at(-1)).toMatchObject({
      target: "secret:__orchestrator_signing_key",
      details: { purpose: "get", version: 1 },
    });
    // No second admin token on a restart.
    expect(d.initialAdminToken).toBeUndefined();
    await d.close();
    d = undefined;
    const { result, shipped } = await verifyOffline(before.publicKey);
    expect(result.ok).toBe(true);
    const sizes = shipped.map((c) => ("signature" in c ? c.tree_size : -1));
    expect(sizes).toEqual([...sizes].sort((a, b) => a - b));
  });

  it("POST /v1/audit/verify names an entry rewritten behind the log's back", async () => {
    d = await start({ fallbackMasterKeyFile: keyFile() });
    const db = d.store.db;
    db.exec("DROP TRIGGER audit_entries_no_update");
    db.prepare("UPDATE audit_entries SET actor = 'mallory' WHERE seq = 2").run();
    const r = await call(d.url, "POST", "/v1/audit/verify", { token: adminToken() });
    expect(r.body).toMatchObject({ ok: false, firstBad: { seq: 2 } });
    // A log that fails its own check is not signed over: the last checkpoint at close is refused (and logged).
    await d.close();
    d = undefined;
  });

  it("another master key does not open the vault; a key file others can read is refused", async () => {
    expect(await codeOf(start({ env: { CBO_MASTER_KEY: randomBytes(32).toString("base64") } }))).toMatchObject({
      code: "ERR_VAULT_INTEGRITY",
    });
    chmodSync(keyFile(), 0o644);
    expect(await codeOf(start({ fallbackMasterKeyFile: keyFile() }))).toMatchObject({
      code: "ERR_VALIDATION",
      message: expect.stringContaining("group or others"),
    });
    chmodSync(keyFile(), 0o600);
  });

  it("never mints a new fallback key for a vault that exists (e.g. one restored from a backup)", async () => {
    const kept = readFileSync(keyFile());
    await rm(keyFile());
    const refused = await codeOf(start({ fallbackMasterKeyFile: keyFile() }));
    expect(refused).toMatchObject({ code: "ERR_VALIDATION", message: expect.stringContaining("holds a vault") });
    expect(existsSync(keyFile())).toBe(false);
    writeFileSync(keyFile(), kept, { mode: 0o600 });
    const d = await start({ fallbackMasterKeyFile: keyFile() });
    await d.close();
  });
});

describe("scheduled backups", () => {
  it("runs the backup schedule with retention, each archive on the audit record, and stops it on close", async () => {
    const bdir = await makeTempDir("daemon-backup");
    try {
      writeFileSync(join(bdir, "orchestrator.yaml"), "version: 1\ntargets:\n  - { name: eu, api: local }\n");
      const d = await startDaemon({
        dataDir: join(bdir, "data"),
        configFile: join(bdir, "orchestrator.yaml"),
        port: 0,
        edge: EDGE,
        log: () => {},
        env: { CBO_MASTER_KEY: randomBytes(32).toString("base64") },
        backup: { everyMs: 150, keep: 2 },
      });
      const deadline = Date.now() + 10_000;
      while (d.security.audit.search({ action: "backup.create", outcome: "ok" }).length < 3 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      await d.close();
      const db = new DatabaseSync(join(bdir, "data", "orchestrator.sqlite"), { readOnly: true });
      const entries = db.prepare("SELECT details FROM audit_entries WHERE action = 'backup.create' AND outcome = 'ok'").all() as Array<{
        details: string;
      }>;
      db.close();
      expect(entries.length).toBeGreaterThanOrEqual(3);
      expect(JSON.parse(entries[0]!.details)).toMatchObject({ bytes: expect.any(Number), entries: expect.any(Number) });
      const archives = readdirSync(join(bdir, "data", "backups"));
      expect(archives.length).toBe(2);
    } finally {
      await rm(bdir, { recursive: true, force: true });
    }
  });
});
