// Master-key rotation with no downtime, on a real daemon (real SQLite, real HTTP, key files on
// disk) and through the real `cbo` binary:
//   - online: while clients read and write secrets without pause, POST /v1/vault/rotate-master-key
//     re-wraps the vault under a new key file; no request fails, values read the same after, the
//     old key is kept as <file>.retired-<id> (0600), and both facts are on the audit record;
//   - backups made before the rotation restore with the retired key (cbo restore finds it beside
//     the key file), backups made after with the new one;
//   - the daemon restarts on the rewritten key file, and records daemon.stop / daemon.start;
//   - a rotation interrupted between its commit and its rename is finished when the daemon starts;
//     a stale <file>.next is replaced, one holding a key that sealed the vault is refused;
//   - a key from CBO_MASTER_KEY is refused online (409, with the offline command as the hint), and
//     the offline rotation (cbo vault rotate-master-key --new-key-file) re-wraps it, audited, while
//     refusing to run under a live daemon.
import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDaemon, type Daemon, type DaemonOptions } from "../src/daemon.ts";
import { createStore } from "../src/store/index.ts";
import { createVault, generateKeyFile, masterKeyFromFile } from "../src/vault/index.ts";
import { retiredKeyFile } from "../src/vault/key-file-rotation.ts";
import { runCbo, type CboRun } from "./support/run-cbo.ts";
import { UNREACHABLE_EDGE as EDGE } from "./support/daemon-rig.ts";

const SPEC = "version: 1\ntargets:\n  - { name: eu, api: local }\nworkers: []\n";
const VALUES = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`S${i}`, `rot-${i}-${randomBytes(12).toString("hex")}`]));

let root: string;
const logs: string[] = [];
const daemons: Daemon[] = [];

async function daemon(dataDir: string, extra: Partial<DaemonOptions>): Promise<Daemon> {
  const d = await startDaemon({
    dataDir,
    configFile: join(root, "orchestrator.yaml"),
    edge: EDGE,
    env: {},
    monitorIntervalMs: 60_000,
    log: (l) => logs.push(l),
    ...extra,
  });
  daemons.push(d);
  return d;
}

function client(d: Daemon, token: string) {
  return async <T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const res = await fetch(new URL(path, d.url), {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as T };
  };
}

const mode = (file: string) => statSync(file).mode & 0o777;
const cbo = (args: string[], env: Record<string, string> = {}): Promise<CboRun> => runCbo(args, { cwd: root, env, timeoutMs: 60_000 });

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "cbo-vault-rotate-"));
  writeFileSync(join(root, "orchestrator.yaml"), SPEC);
});
afterAll(async () => {
  for (const d of daemons) await d.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe("online master-key rotation of a key file", () => {
  const data = () => join(root, "a");
  const keyFile = () => join(root, "keys", "master.key");
  let d: Daemon;
  let token: string;
  let api: ReturnType<typeof client>;
  let oldId: string;
  let newId: string;

  beforeAll(async () => {
    generateKeyFile(keyFile());
    d = await daemon(data(), { masterKeyFile: keyFile() });
    token = d.initialAdminToken!;
    api = client(d, token);
    for (const [name, value] of Object.entries(VALUES)) expect((await api("PUT", `/v1/secrets/${name}`, { value })).status).toBe(200);
    oldId = d.masterKey.id;
  });

  it("keeps serving: reads and writes before, during and after succeed, and read the same values", async () => {
    expect((await api("POST", "/v1/backups", { out: join(root, "before.cbobak") })).status).toBe(200);
    // Clients that never pause: four readers and a writer, until the rotation has answered.
    let rotated = false;
    const seen: Array<{ status: number; after: boolean; ok: boolean }> = [];
    const reader = async (i: number) => {
      while (!rotated || seen.filter((s) => s.after).length < 20) {
        const name = `S${i % 5}`;
        const r = await api<{ value: string }>("GET", `/v1/secrets/${name}/value`);
        seen.push({ status: r.status, after: rotated, ok: r.body.value === VALUES[name] });
      }
    };
    const writer = async () => {
      for (let n = 0; !rotated || n < 5; n++) {
        const r = await api("PUT", "/v1/secrets/CHURN", { value: `churn-${n}-${randomBytes(4).toString("hex")}` });
        seen.push({ status: r.status, after: rotated, ok: true });
      }
    };
    const load = Promise.all([reader(0), reader(1), reader(2), reader(3), writer()]);
    while (seen.length < 20) await new Promise((r) => setTimeout(r, 5));
    const r = await api<{ fromKeyId: string; toKeyId: string; rewrapped: number; keyFile: string; retiredKeyFile: string }>(
      "POST",
      "/v1/vault/rotate-master-key",
      {},
    );
    rotated = true;
    await load;
    expect(r.status).toBe(200);
    newId = r.body.toKeyId;
    expect(r.body).toMatchObject({ fromKeyId: oldId, keyFile: keyFile(), retiredKeyFile: retiredKeyFile(keyFile(), oldId) });
    expect(newId).not.toBe(oldId);
    // Six secrets (five and CHURN's versions) and the orchestrator's signing key.
    expect(r.body.rewrapped).toBeGreaterThanOrEqual(7);
    expect(seen.filter((s) => !s.after).length).toBeGreaterThanOrEqual(20);
    expect(seen.filter((s) => s.after).length).toBeGreaterThanOrEqual(20);
    expect(seen.filter((s) => s.status !== 200 || !s.ok)).toEqual([]);
    for (const [name, value] of Object.entries(VALUES))
      expect((await api<{ value: string }>("GET", `/v1/secrets/${name}/value`)).body.value).toBe(value);
  });

  it("the key file holds the new key, the old one is kept 0600 beside it, and it is all on the record", async () => {
    expect(masterKeyFromFile(keyFile()).id).toBe(newId);
    expect(mode(keyFile())).toBe(0o600);
    const retired = retiredKeyFile(keyFile(), oldId);
    expect(masterKeyFromFile(retired).id).toBe(oldId);
    expect(mode(retired)).toBe(0o600);
    expect(existsSync(`${keyFile()}.next`)).toBe(false);
    expect(d.masterKey.id).toBe(newId);
    const rewrap = d.security.audit.search({ action: "vault.key_rotate", limit: 10 });
    expect(rewrap).toHaveLength(1);
    expect(rewrap[0]).toMatchObject({
      actor: expect.stringMatching(/^token:initial admin:/),
      outcome: "ok",
      details: { fromKeyId: oldId, toKeyId: newId },
    });
    const done = d.security.audit.search({ action: "vault.rotate_master_key", limit: 10 });
    expect(done.map((e) => [e.outcome, e.details.keyFile, e.details.retiredKeyFile])).toEqual([["ok", keyFile(), retired]]);
    // Key ids only: neither key's text appears in any entry.
    const all = JSON.stringify(d.security.audit.search({ limit: 10_000 }));
    for (const f of [keyFile(), retired]) expect(all).not.toContain(readFileSync(f, "utf8").trim());
    // A viewer cannot rotate.
    const viewer = (await api<{ token: string }>("POST", "/v1/tokens", { name: "v", role: "viewer" })).body.token;
    expect((await client(d, viewer)("POST", "/v1/vault/rotate-master-key", {})).status).toBe(403);
  });

  it("a backup after the rotation is sealed with the new key; one from before restores with the retired key", async () => {
    const after = await api<{ masterKeyId: string; file: string }>("POST", "/v1/backups", { out: join(root, "after.cbobak") });
    expect(after.body.masterKeyId).toBe(newId);
    const beforeTarget = join(root, "restored-before");
    const r = await cbo(["restore", join(root, "before.cbobak"), "--data", beforeTarget, "--master-key-file", keyFile()]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`master key  ${oldId} from ${retiredKeyFile(keyFile(), oldId)}: the archive predates a master-key rotation`);
    expect(r.stdout).toContain(`CBO_MASTER_KEY_FILE=${retiredKeyFile(keyFile(), oldId)} npx cbo daemon --data ${beforeTarget}`);
    const restored = createStore(join(beforeTarget, "orchestrator.sqlite"));
    try {
      expect(createVault({ db: restored.db, masterKey: masterKeyFromFile(retiredKeyFile(keyFile(), oldId)) }).getText("S1").value).toBe(
        VALUES.S1,
      );
    } finally {
      restored.close();
    }
    const a = await cbo([
      "restore",
      join(root, "after.cbobak"),
      "--data",
      join(root, "restored-after"),
      "--master-key-file",
      keyFile(),
      "--json",
    ]);
    expect(a.code).toBe(0);
    expect(JSON.parse(a.stdout)).toMatchObject({ masterKeyId: newId });
    expect(JSON.parse(a.stdout)).not.toHaveProperty("retiredKeyFile");
  });

  it("the daemon restarts on the rewritten key file; stop and start are on the record", async () => {
    await d.close();
    d = await daemon(data(), { masterKeyFile: keyFile() });
    api = client(d, token);
    expect(d.masterKey.id).toBe(newId);
    for (const [name, value] of Object.entries(VALUES))
      expect((await api<{ value: string }>("GET", `/v1/secrets/${name}/value`)).body.value).toBe(value);
    // Oldest first: the first start, its stop (with how long it ran), this start.
    const lifecycle = d.security.audit.search({ action: "daemon.*", limit: 100 });
    expect(lifecycle.map((e) => [e.action, e.actor, e.outcome])).toEqual([
      ["daemon.start", "daemon", "ok"],
      ["daemon.stop", "daemon", "ok"],
      ["daemon.start", "daemon", "ok"],
    ]);
    expect(lifecycle[1]!.details).toMatchObject({ url: lifecycle[0]!.details.url, uptimeS: expect.any(Number) });
    expect(lifecycle[2]!.details).toMatchObject({
      url: d.url,
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      pid: process.pid,
      masterKeyId: newId,
    });
    // The stop is covered by the last checkpoint the stopping daemon signed.
    const checkpoints = d.security.audit.checkpoints();
    expect(checkpoints.some((c) => c.tree_size >= lifecycle[1]!.seq)).toBe(true);
    expect((await api<{ ok: boolean }>("POST", "/v1/audit/verify")).body.ok).toBe(true);
  });

  it("finishes a rotation interrupted between its commit and its rename when the daemon starts", async () => {
    await d.close();
    // The state a crash after the re-wrap commits and before the rename leaves: the key file still
    // holds the old (now retired) key, <file>.next the one that seals the vault.
    const retired = retiredKeyFile(keyFile(), oldId);
    renameSync(keyFile(), `${keyFile()}.next`);
    renameSync(retired, keyFile());
    logs.length = 0;
    d = await daemon(data(), { masterKeyFile: keyFile() });
    api = client(d, token);
    expect(logs.some((l) => l.includes("finished an interrupted master-key rotation"))).toBe(true);
    expect(masterKeyFromFile(keyFile()).id).toBe(newId);
    expect(masterKeyFromFile(retired).id).toBe(oldId);
    expect(existsSync(`${keyFile()}.next`)).toBe(false);
    expect((await api<{ value: string }>("GET", "/v1/secrets/S3/value")).body.value).toBe(VALUES.S3);
  });

  it("cbo vault rotate-master-key rotates through the daemon; a stale .next is replaced, one that sealed the vault refused", async () => {
    // Left by a rotation that never committed: it sealed nothing.
    generateKeyFile(`${keyFile()}.next`);
    const r = await cbo(["vault", "rotate-master-key", "--data", data()]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const third = masterKeyFromFile(keyFile()).id;
    expect(r.stdout).toContain(`master key rotated online: ${newId} -> ${third}`);
    expect(r.stdout).toContain(`retired key  ${retiredKeyFile(keyFile(), newId)}`);
    expect(existsSync(`${keyFile()}.next`)).toBe(false);
    expect((await api<{ value: string }>("GET", "/v1/secrets/S0/value")).body.value).toBe(VALUES.S0);
    // A .next holding a key that once sealed this vault is evidence: refused, left alone.
    copyFileSync(retiredKeyFile(keyFile(), oldId), `${keyFile()}.next`);
    const refused = await api<{ error: { code: string; message: string } }>("POST", "/v1/vault/rotate-master-key", {});
    expect([refused.status, refused.body.error.code]).toEqual([409, "ERR_CONFLICT"]);
    expect(refused.body.error.message).toContain(`holds master key ${oldId}, which has sealed this vault`);
    expect(masterKeyFromFile(`${keyFile()}.next`).id).toBe(oldId);
    expect(masterKeyFromFile(keyFile()).id).toBe(third);
    rmSync(`${keyFile()}.next`);
    expect(d.security.audit.search({ action: "vault.rotate_master_key", limit: 10 }).map((e) => e.outcome)).toEqual(["ok", "ok", "error"]);
  });
});

describe("a master key from CBO_MASTER_KEY", () => {
  const data = () => join(root, "b");
  const keyB64 = randomBytes(32).toString("base64");
  let d: Daemon;

  it("is refused online with the offline command as the hint, and the offline rotation refuses a live daemon", async () => {
    d = await daemon(data(), { env: { CBO_MASTER_KEY: keyB64 } });
    const api = client(d, d.initialAdminToken!);
    expect((await api("PUT", "/v1/secrets/ENVKEY", { value: VALUES.S0 })).status).toBe(200);
    const r = await cbo(["vault", "rotate-master-key", "--data", data()]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error ERR_CONFLICT: The daemon's master key comes from CBO_MASTER_KEY, which it cannot rewrite/);
    expect(r.stderr).toContain(
      "hint: the daemon's master key comes from CBO_MASTER_KEY or a passphrase: stop the daemon, run `npx cbo vault rotate-master-key --data DIR --new-key-file F`",
    );
    const offline = await cbo(["vault", "rotate-master-key", "--data", data(), "--new-key-file", join(root, "b.key")], {
      CBO_MASTER_KEY: keyB64,
    });
    expect(offline.code).toBe(1);
    expect(offline.stderr).toMatch(/^error ERR_CONFLICT: A daemon runs on /);
    expect(existsSync(join(root, "b.key"))).toBe(false);
    expect(d.security.audit.search({ action: "vault.rotate_master_key", limit: 10 }).map((e) => [e.outcome, e.details.code])).toEqual([
      ["error", "ERR_CONFLICT"],
    ]);
  });

  it("is rotated offline to a new key file, on the record, and the daemon starts on that file", async () => {
    await d.close();
    const newKey = join(root, "b.key");
    const r = await cbo(["vault", "rotate-master-key", "--data", data(), "--new-key-file", newKey], { CBO_MASTER_KEY: keyB64 });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const id = masterKeyFromFile(newKey).id;
    expect(mode(newKey)).toBe(0o600);
    expect(r.stdout).toMatch(new RegExp(`^master key rotated offline: [0-9a-f]{16} -> ${id}; \\d+ data key\\(s\\) re-wrapped`));
    expect(r.stdout).toContain(`CBO_MASTER_KEY_FILE=${newKey} npx cbo daemon --data ${data()}`);
    // The old key no longer opens it.
    await expect(daemon(data(), { env: { CBO_MASTER_KEY: keyB64 } })).rejects.toMatchObject({ code: "ERR_VAULT_INTEGRITY" });
    d = await daemon(data(), { env: { CBO_MASTER_KEY_FILE: newKey } });
    const api = client(d, readFileSync(join(data(), "admin-token"), "utf8").trim());
    expect((await api<{ value: string }>("GET", "/v1/secrets/ENVKEY/value")).body.value).toBe(VALUES.S0);
    const rot = d.security.audit.search({ action: "vault.*", limit: 10 });
    expect(rot.map((e) => [e.action, e.actor.startsWith("cli:"), e.outcome])).toEqual([
      ["vault.rotate_master_key", false, "error"],
      ["vault.key_rotate", true, "ok"],
      ["vault.rotate_master_key", true, "ok"],
    ]);
    expect(rot[2]!.details).toMatchObject({ toKeyId: id, newKeyFile: newKey, offline: true });
    expect((await api<{ ok: boolean }>("POST", "/v1/audit/verify")).body.ok).toBe(true);
  });

  it("--offline swaps a key file in place, keeping the old key beside it; a key from CBO_MASTER_KEY cannot be swapped", async () => {
    await d.close();
    const keyFile = join(root, "b.key");
    const before = masterKeyFromFile(keyFile).id;
    const refused = await cbo(["vault", "rotate-master-key", "--data", data(), "--offline"], {
      CBO_MASTER_KEY: randomBytes(32).toString("base64"),
    });
    expect([refused.code, refused.stderr.split("\n")[0]]).toEqual([
      1,
      "error ERR_USAGE: --offline swaps a key file in place, and this master key does not come from one.",
    ]);
    const r = await cbo(["vault", "rotate-master-key", "--data", data(), "--offline", "--json"], { CBO_MASTER_KEY_FILE: keyFile });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { fromKeyId: string; toKeyId: string; keyFile: string; retiredKeyFile: string };
    expect(out).toMatchObject({ fromKeyId: before, keyFile, retiredKeyFile: retiredKeyFile(keyFile, before) });
    expect(masterKeyFromFile(keyFile).id).toBe(out.toKeyId);
    expect(masterKeyFromFile(out.retiredKeyFile).id).toBe(before);
    d = await daemon(data(), { masterKeyFile: keyFile });
    const api = client(d, readFileSync(join(data(), "admin-token"), "utf8").trim());
    expect((await api<{ value: string }>("GET", "/v1/secrets/ENVKEY/value")).body.value).toBe(VALUES.S0);
  });
});
