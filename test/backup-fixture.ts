// A data directory as the daemon leaves it, for backup tests: the store, a vault whose every change
// is appended to the audit log (fail closed, as the daemon wires it), the orchestrator's Ed25519
// key kept in the vault as the daemon keeps it, signed checkpoints appended to
// audit-checkpoints.jsonl, and five planted secrets with unique values.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { appendFileSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { canonicalJson, createAuditLog, createEd25519Signer, type AuditLog, type AuditSigner } from "../src/audit/index.ts";
import { exportEd25519PrivateKey, generateEd25519KeyPair } from "../src/kit/signing/index.ts";
import { createStore, type Store } from "../src/store/index.ts";
import { createVault, MasterKey, type Vault, type VaultEvent } from "../src/vault/index.ts";
import { CHECKPOINTS_FILE, DB_FILE } from "../src/backup/format.ts";
import { openArchiveKeys } from "../src/backup/keys.ts";
import { decrypt, openArchive } from "../src/backup/open-archive.ts";
import { cboEnv, runCbo, type CboRun } from "./support/run-cbo.ts";
import { silentLogger } from "../src/telemetry/index.ts";

export const tempDir = (prefix: string) => mkdtempSync(join(tmpdir(), `cbo-${prefix}-`));

export type Fixture = {
  dataDir: string;
  keyBytes: Buffer;
  masterKey: MasterKey;
  store: Store;
  vault: Vault;
  audit: AuditLog;
  signer: AuditSigner;
  planted: string[];
  /** A unique string stored in clear in the database (an audit entry's details): the archive must hide it too. */
  marker: string;
  close(): Promise<void>;
};

const vaultEntry = (e: VaultEvent) => ({
  actor: "by" in e && e.by ? e.by : "test",
  action: e.type,
  target: "name" in e ? `${e.tenant}/${e.name}` : null,
  outcome: "ok" as const,
  details: "value_hash" in e ? { version: e.version, valueHash: e.value_hash } : {},
});

export async function makeDataDir(opts: { dataDir?: string; masterKey?: { key: MasterKey; bytes: Buffer } } = {}): Promise<Fixture> {
  const dataDir = opts.dataDir ?? tempDir("backup-data");
  const keyBytes = opts.masterKey?.bytes ?? randomBytes(32);
  const masterKey = opts.masterKey?.key ?? new MasterKey(keyBytes, "bytes");
  const store = createStore(join(dataDir, DB_FILE));
  let audit: AuditLog | undefined;
  const early: VaultEvent[] = [];
  const vault = createVault({ db: store.db, masterKey, onEvent: (e) => (audit ? audit.append(vaultEntry(e)) : early.push(e)) });

  const pair = await generateEd25519KeyPair({ extractable: true });
  const pkcs8 = await exportEd25519PrivateKey(pair.privateKey);
  vault.put("__orchestrator_signing_key", pkcs8, { tenant: "default", cas: 0, mode: "relay", by: "daemon" });
  const signer = await createEd25519Signer(pair);
  audit = createAuditLog({
    db: store.db,
    signer,
    checkpointEvery: { entries: 25, ms: 3_600_000 },
    log: silentLogger,
    onCheckpoint: (cp) => appendFileSync(join(dataDir, CHECKPOINTS_FILE), canonicalJson({ ...cp, kind: "checkpoint" }) + "\n"),
  });
  audit.appendMany(early.map(vaultEntry));

  const planted = Array.from({ length: 5 }, (_, i) => `planted-${i}-${randomBytes(16).toString("hex")}`);
  planted.forEach((value, i) => vault.put(`SECRET_${i}`, value, { cas: 0, mode: i % 2 ? "binding" : "relay", by: "token:admin:1" }));
  for (let i = 0; i < 40; i++)
    audit.append({ actor: "token:deployer:2", action: "release.create", target: `hello`, outcome: "ok", details: { n: i } });
  const marker = `marker-${randomBytes(12).toString("hex")}`;
  audit.append({ actor: "test", action: "test.marker", outcome: "ok", details: { marker } });
  store.releases.insert({
    id: "rel_1",
    tenant: "default",
    worker: "hello",
    kind: "release",
    status: "succeeded",
    reason: null,
    plan: {},
    created_by: "test",
  });
  await audit.checkpoint();
  const a = audit;
  return {
    dataDir,
    keyBytes,
    masterKey,
    store,
    vault,
    audit: a,
    signer,
    planted,
    marker,
    async close() {
      await a.stop({ checkpoint: false });
      store.close();
    },
  };
}

/** A secret in clear, hex and base64, labelled so that a failing assertion never prints it. */
export function needles(label: string, s: string | Buffer): Array<{ what: string; bytes: Buffer }> {
  const b = Buffer.isBuffer(s) ? s : Buffer.from(s, "utf8");
  const forms = {
    hex: b.toString("hex"),
    base64: b.toString("base64"),
    base64url: b.toString("base64url"),
    ...(Buffer.isBuffer(s) ? {} : { clear: s }),
  };
  return Object.entries(forms).map(([form, text]) => ({ what: `${label} (${form})`, bytes: Buffer.from(text, "utf8") }));
}

/** Which needles occur in `haystack` (their labels only). */
export const found = (haystack: Buffer, list: Array<{ what: string; bytes: Buffer }>) =>
  list.filter((n) => haystack.includes(n.bytes)).map((n) => n.what);

/** Test-only: an archive's files in clear, decrypted with the right key through the real reader. */
export function extract(archive: string, masterKey: MasterKey): Record<string, Buffer> {
  const a = openArchive(archive);
  try {
    const key = openArchiveKeys(masterKey, a.header);
    const parts: Record<string, Buffer[]> = {};
    decrypt(a, key, { start: (name) => void (parts[name] = []), chunk: (name, bytes) => void parts[name]!.push(Buffer.from(bytes)) });
    return Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, Buffer.concat(v)]));
  } finally {
    a.close();
  }
}

export const readBytes = (file: string) => readFileSync(file);

/**
 * `cbo backup|restore` as a child process: through the real binary once main.ts dispatches them,
 * until then through the same two steps main.ts takes (the command, then printError's exit code).
 */
export async function runBackupCli(args: string[], opts: { env?: Record<string, string>; cwd?: string } = {}): Promise<CboRun> {
  const wired = readFileSync(new URL("../src/cli/main.ts", import.meta.url), "utf8").includes("backup-command.ts");
  if (wired) return runCbo(args, { ...opts, timeoutMs: 60_000 });
  const url = (p: string) => JSON.stringify(new URL(p, import.meta.url).href);
  const shim = `
    const { printError } = await import(${url("../src/cli/output.ts")});
    const [command, ...rest] = process.argv.slice(1);
    let code;
    try {
      code = command === "backup" ? await (await import(${url("../src/cli/offline/backup-command.ts")})).backupCommand(rest)
        : await (await import(${url("../src/cli/offline/restore-command.ts")})).restoreCommand(rest);
    } catch (e) {
      code = printError(e, rest.includes("--debug"));
    }
    process.exitCode = code;`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", shim, ...args], {
    cwd: opts.cwd ?? process.cwd(),
    env: cboEnv(opts.env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const out: CboRun = { code: null, signal: null, stdout: "", stderr: "" };
  child.stdout.setEncoding("utf8").on("data", (s: string) => (out.stdout += s));
  child.stderr.setEncoding("utf8").on("data", (s: string) => (out.stderr += s));
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ ...out, code, signal });
    });
  });
}
