// Backup and restore on real SQLite files: a round trip while another thread writes, wrong keys,
// damaged and altered archives, non-empty targets, planted secrets, audit tampering inside an
// archive (decrypted, edited and re-sealed with the right key), passphrase vaults.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { Worker } from "node:worker_threads";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBackup, restoreBackup, readArchiveHeader, passphraseKeyFor } from "../src/backup/index.ts";
import { CHECKPOINTS_FILE, DB_FILE } from "../src/backup/format.ts";
import { sealArchive } from "../src/backup/seal.ts";
import { entryHash } from "../src/audit/index.ts";
import { CboError } from "../src/kit/errors.ts";
import { openDb } from "../src/store/db.ts";
import { createVault, masterKeyFromPassphrase, MasterKey } from "../src/vault/index.ts";
import { extract, found, makeDataDir, needles, tempDir, type Fixture } from "./backup-fixture.ts";

/** The error a promise rejects with (fails the test if it resolves). */
async function rejection(p: Promise<unknown>): Promise<CboError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(CboError);
    return e as CboError;
  }
  throw new Error("expected a rejection");
}

const isEmptyOrAbsent = (dir: string) => !existsSync(dir) || readdirSync(dir).length === 0;

describe("backup round trip while another connection writes", () => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await makeDataDir();
    // Some bulk, so that a copy takes long enough for writes to land during it.
    for (let i = 0; i < 40; i++)
      fx.audit.appendMany(
        Array.from({ length: 250 }, (_, j) => ({
          actor: "bulk",
          action: "bulk.entry",
          outcome: "ok" as const,
          details: { i, j, pad: "x".repeat(200) },
        })),
      );
    await fx.audit.checkpoint();
  });
  afterAll(() => fx.close());

  it("every archive restores to one consistent snapshot that verifies, with the secrets readable", async () => {
    const base = fx.audit.head().seq;
    // A real second connection on another thread: audit appends and vault writes, as fast as it can.
    const progress = new Int32Array(new SharedArrayBuffer(8)); // [0] entries committed, [1] stop flag
    const worker = new Worker(WRITER, {
      eval: true,
      workerData: { file: join(fx.dataDir, DB_FILE), key: fx.keyBytes, progress, urls: MODULE_URLS },
    });
    const failed = new Promise<never>((_, reject) => worker.on("error", reject));
    await Promise.race([new Promise((r) => worker.once("message", r)), failed]);

    const outDir = tempDir("backup-out");
    const runs: Array<{ file: string; before: number; after: number }> = [];
    for (let i = 0; i < 5; i++) {
      const before = Atomics.load(progress, 0);
      const r = await Promise.race([
        createBackup({ dataDir: fx.dataDir, masterKey: fx.masterKey, out: join(outDir, `b${i}.cbobak`) }),
        failed,
      ]);
      runs.push({ file: r.file, before, after: Atomics.load(progress, 0) });
      expect(statSync(r.file).mode & 0o777).toBe(0o600);
    }
    Atomics.store(progress, 1, 1);
    await new Promise((r) => worker.once("exit", r));
    // The writer committed while copies were being taken, not only between them.
    expect(runs.some((r) => r.after > r.before)).toBe(true);

    for (const run of runs) {
      const target = join(tempDir("backup-restore"), "data");
      const restored = await restoreBackup({ archive: run.file, dataDir: target, masterKey: fx.masterKey });
      // One snapshot: everything committed before the copy, nothing torn (the chain verified).
      expect(restored.audit.entries).toBeGreaterThanOrEqual(base + run.before);
      expect(restored.audit.entries).toBeLessThanOrEqual(base + run.after + PER_ROUND);
      expect(restored.audit.publicKeyFrom).toBe("vault");
      expect(restored.audit.checkpoints).toBeGreaterThan(0);
      expect(restored.releases.total).toBe(1);
      const db = openDb(join(target, DB_FILE));
      try {
        const vault = createVault({ db, masterKey: fx.masterKey });
        fx.planted.forEach((value, i) => expect(vault.getText(`SECRET_${i}`).value === value).toBe(true));
      } finally {
        db.close();
      }
      expect(statSync(join(target, DB_FILE)).mode & 0o777).toBe(0o600);
    }
  });
});

const BATCH = 20;
// What one round of the writer may have committed before it publishes its count: BATCH - 1
// entries, the put's secret.written and, from the 11th put on, a secret.destroyed (the vault keeps
// 10 versions and prunes the rest).
const PER_ROUND = BATCH + 1;
const MODULE_URLS = {
  audit: new URL("../src/audit/index.ts", import.meta.url).href,
  store: new URL("../src/store/db.ts", import.meta.url).href,
  vault: new URL("../src/vault/index.ts", import.meta.url).href,
};
// The concurrent writer: its own connection, its own audit log instance (appends only: the head is
// read from the database on every append, so two writers share one chain), vault writes too.
const WRITER = `
const { workerData, parentPort } = require("node:worker_threads");
(async () => {
  const { createAuditLog, generateEd25519Signer } = await import(workerData.urls.audit);
  const { openDb } = await import(workerData.urls.store);
  const { createVault, MasterKey } = await import(workerData.urls.vault);
  const db = openDb(workerData.file);
  const audit = createAuditLog({ db, signer: await generateEd25519Signer(), checkpointEvery: { entries: 1e9, ms: 1e9 }, log: () => {} });
  const vault = createVault({ db, masterKey: new MasterKey(Buffer.from(workerData.key), "bytes"), onEvent: (e) => audit.append({ actor: "writer", action: e.type, outcome: "ok" }) });
  const p = workerData.progress;
  // Entries counted from the chain's head, not by hand: the vault's own events (a put, a prune) land
  // in the log too.
  const start = audit.head().seq;
  let n = 0;
  parentPort.postMessage("writing");
  while (Atomics.load(p, 1) === 0) {
    audit.appendMany(Array.from({ length: ${BATCH} - 1 }, (_, i) => ({ actor: "writer", action: "write.entry", outcome: "ok", details: { n, i } })));
    vault.put("CONCURRENT", "value " + n++, { by: "writer" });
    Atomics.store(p, 0, audit.head().seq - start);
    await new Promise((r) => setImmediate(r));
  }
  db.close();
})().catch((e) => { throw e; });
`;

describe("a backup killed mid-way", () => {
  it("its working directory (a clear copy of the database) is removed by the next backup there; a live one's is kept", async () => {
    const fx = await makeDataDir();
    try {
      const outDir = tempDir("backup-out");
      // A process that has exited: its pid names no process now.
      const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout;
      const orphan = join(outDir, `.b0.cbobak.tmp-${dead}-AbC123`);
      const live = join(outDir, `.b1.cbobak.tmp-${process.ppid}-XyZ789`);
      for (const d of [orphan, live]) {
        mkdirSync(d);
        writeFileSync(join(d, DB_FILE), fx.marker);
      }
      const r = await createBackup({ dataDir: fx.dataDir, masterKey: fx.masterKey, out: join(outDir, "b2.cbobak") });
      expect(readdirSync(outDir).sort()).toEqual([".b1.cbobak.tmp-" + process.ppid + "-XyZ789", "b2.cbobak"].sort());
      expect(existsSync(r.file)).toBe(true);
      rmSync(outDir, { recursive: true, force: true });
    } finally {
      await fx.close();
    }
  });
});

describe("what restore refuses", () => {
  let fx: Fixture;
  let archive: string;
  beforeAll(async () => {
    fx = await makeDataDir();
    archive = (await createBackup({ dataDir: fx.dataDir, masterKey: fx.masterKey, out: join(tempDir("backup-out"), "a.cbobak") })).file;
  });
  afterAll(() => fx.close());

  it("an archive that is a directory, a FIFO or a device: ERR_VALIDATION naming it (a FIFO hung the open)", async () => {
    const parent = tempDir("backup-not-file");
    const fifo = join(parent, "fifo.cbobak");
    spawnSync("mkfifo", [fifo]);
    for (const [file, what] of [
      [parent, "a directory"],
      [fifo, "not a regular file"],
      ["/dev/zero", "not a regular file"],
    ] as const) {
      const e = await rejection(restoreBackup({ archive: file, dataDir: join(parent, "data"), masterKey: fx.masterKey }));
      expect([e.code, e.message]).toEqual(["ERR_VALIDATION", `${file} is ${what}, not a backup archive.`]);
    }
    expect(existsSync(join(parent, "data"))).toBe(false);
    rmSync(parent, { recursive: true, force: true });
  });

  it("a wrong master key: ERR_VAULT_INTEGRITY naming both key ids, and nothing written", async () => {
    const wrong = new MasterKey(randomBytes(32), "bytes");
    const parent = tempDir("backup-wrong");
    const target = join(parent, "data");
    const e = await rejection(restoreBackup({ archive, dataDir: target, masterKey: wrong }));
    expect(e.code).toBe("ERR_VAULT_INTEGRITY");
    expect(e.message).toContain(fx.masterKey.id);
    expect(e.message).toContain(wrong.id);
    expect(existsSync(target)).toBe(false);
    // An existing empty directory stays empty.
    const empty = tempDir("backup-wrong-empty");
    expect((await rejection(restoreBackup({ archive, dataDir: empty, masterKey: wrong }))).code).toBe("ERR_VAULT_INTEGRITY");
    expect(readdirSync(empty)).toEqual([]);
    // And a backup with the wrong key is refused too: it could never be opened.
    const out = join(tempDir("backup-out"), "wrong.cbobak");
    expect((await rejection(createBackup({ dataDir: fx.dataDir, masterKey: wrong, out }))).code).toBe("ERR_VAULT_INTEGRITY");
    expect(existsSync(out)).toBe(false);
  });

  it("a non-empty target directory: ERR_CONFLICT, and what was there is untouched", async () => {
    const target = tempDir("backup-nonempty");
    writeFileSync(join(target, "keep.txt"), "mine");
    const e = await rejection(restoreBackup({ archive, dataDir: target, masterKey: fx.masterKey }));
    expect(e.code).toBe("ERR_CONFLICT");
    expect(readdirSync(target)).toEqual(["keep.txt"]);
    expect(readFileSync(join(target, "keep.txt"), "utf8")).toBe("mine");
  });

  it("a single flipped byte anywhere (header, check, body, tag): an integrity error, and nothing left", async () => {
    const bytes = readFileSync(archive);
    const header = readArchiveHeader(archive);
    const bodyStart = bytes.length - 16 - header.files.reduce((n, f) => n + f.bytes, 0);
    // Every byte before the body and of the tag; the body at a stride (and its first and last bytes).
    const positions = new Set<number>();
    for (let i = 0; i < bodyStart; i++) positions.add(i);
    for (let i = bodyStart; i < bytes.length - 16; i += 211) positions.add(i);
    [bodyStart, bytes.length - 17].forEach((i) => positions.add(i));
    for (let i = bytes.length - 16; i < bytes.length; i++) positions.add(i);
    const dir = tempDir("backup-flip");
    const target = join(dir, "data");
    const codes = new Map<string, number>();
    for (const pos of positions) {
      const copy = Buffer.from(bytes);
      copy[pos] = copy[pos]! ^ (1 << (pos % 8));
      writeFileSync(join(dir, "flipped.cbobak"), copy);
      const e = await rejection(restoreBackup({ archive: join(dir, "flipped.cbobak"), dataDir: target, masterKey: fx.masterKey }));
      codes.set(e.code, (codes.get(e.code) ?? 0) + 1);
      if (e.code !== "ERR_VAULT_INTEGRITY" || existsSync(target))
        throw new Error(`flipping byte ${pos} gave ${e.code} (${e.message}); target left: ${existsSync(target)}`);
    }
    expect([...codes.keys()]).toEqual(["ERR_VAULT_INTEGRITY"]);
    expect(positions.size).toBeGreaterThan(bodyStart);
  });

  it("a cut-short or extended archive: an integrity error", async () => {
    const bytes = readFileSync(archive);
    const dir = tempDir("backup-cut");
    for (const [name, variant] of [
      ["short", bytes.subarray(0, bytes.length - 1)],
      ["long", Buffer.concat([bytes, Buffer.from([0])])],
      ["empty", Buffer.alloc(0)],
    ] as const) {
      writeFileSync(join(dir, name), variant);
      expect(
        (await rejection(restoreBackup({ archive: join(dir, name), dataDir: join(dir, `t-${name}`), masterKey: fx.masterKey }))).code,
      ).toBe("ERR_VAULT_INTEGRITY");
      expect(isEmptyOrAbsent(join(dir, `t-${name}`))).toBe(true);
    }
  });

  it("planted secret values, the master key and the database's clear text never appear in the archive's bytes", async () => {
    const bytes = readFileSync(archive);
    const list = [...fx.planted.flatMap((p, i) => needles(`planted value ${i}`, p)), ...needles("master key", fx.keyBytes)];
    expect(found(bytes, list)).toEqual([]);
    // The database itself holds the marker in clear (so the archive hides more than the vault already does).
    const inClear = [DB_FILE, `${DB_FILE}-wal`]
      .map((f) => join(fx.dataDir, f))
      .filter(existsSync)
      .some((f) => readFileSync(f).includes(fx.marker));
    expect(inClear).toBe(true);
    expect(bytes.includes(fx.marker)).toBe(false);
    expect(bytes.includes("release.create")).toBe(false);
    // Sanity: the same scan finds a value that is there.
    expect(found(Buffer.concat([bytes, Buffer.from(fx.planted[0]!)]), list)).toEqual(["planted value 0 (clear)"]);
  });
});

describe("audit tampering inside an archive is caught by restore", () => {
  let fx: Fixture;
  let archive: string;
  beforeAll(async () => {
    fx = await makeDataDir();
    archive = (await createBackup({ dataDir: fx.dataDir, masterKey: fx.masterKey, out: join(tempDir("backup-out"), "a.cbobak") })).file;
  });
  afterAll(() => fx.close());

  /** Decrypts the archive, edits its database with `edit`, and re-seals it with the right master key. */
  function reseal(edit: (db: DatabaseSync) => void): string {
    const dir = tempDir("backup-reseal");
    const files = extract(archive, fx.masterKey);
    for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
    const db = new DatabaseSync(join(dir, DB_FILE));
    db.exec("DROP TRIGGER audit_entries_no_update");
    edit(db);
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    db.close();
    const names = ([DB_FILE, CHECKPOINTS_FILE] as const).filter((n) => existsSync(join(dir, n)));
    const out = join(dir, "tampered.cbobak");
    sealArchive({
      files: names.map((name) => ({ name, path: join(dir, name), bytes: statSync(join(dir, name)).size })),
      masterKey: fx.masterKey,
      out,
      tmp: join(dir, "tmp"),
      createdAt: new Date().toISOString(),
    });
    return out;
  }

  it("an edited entry: the chain names it, nothing is left", async () => {
    const out = reseal((db) => db.prepare("UPDATE audit_entries SET actor = 'someone else' WHERE seq = 17").run());
    const target = join(tempDir("backup-tamper"), "data");
    const e = await rejection(restoreBackup({ archive: out, dataDir: target, masterKey: fx.masterKey }));
    expect(e.code).toBe("ERR_VAULT_INTEGRITY");
    expect(e.details?.firstBad).toMatchObject({ seq: 17, reason: "hash mismatch" });
    expect(e.message).toContain("entry 17");
    expect(existsSync(target)).toBe(false);
  });

  it("an edited entry with every later hash recomputed: the signed checkpoint catches the rewrite", async () => {
    const out = reseal((db) => {
      const rows = db.prepare("SELECT * FROM audit_entries WHERE seq >= 17 ORDER BY seq").all() as Array<Record<string, unknown>>;
      let prev = String(rows[0]!.prev_hash);
      for (const r of rows) {
        const fields = {
          seq: Number(r.seq),
          at: String(r.at),
          actor: r.seq === 17 ? "someone else" : String(r.actor),
          action: String(r.action),
          target: r.target as string | null,
          tenant: r.tenant as string | null,
          outcome: r.outcome as "ok",
          details: JSON.parse(String(r.details)) as Record<string, never>,
          prev_hash: prev,
        };
        const hash = entryHash(fields);
        db.prepare("UPDATE audit_entries SET actor = ?, prev_hash = ?, hash = ? WHERE seq = ?").run(fields.actor, prev, hash, fields.seq);
        prev = hash;
      }
    });
    const target = tempDir("backup-rewrite");
    const e = await rejection(restoreBackup({ archive: out, dataDir: target, masterKey: fx.masterKey }));
    expect(e.code).toBe("ERR_VAULT_INTEGRITY");
    expect(e.details?.firstBad).toMatchObject({ reason: "checkpoint root mismatch" });
    const range = (e.details?.firstBad as { range: [number, number] } | undefined)?.range ?? [Number.NaN, Number.NaN];
    expect(range[0]).toBeLessThanOrEqual(17);
    expect(range[1]).toBeGreaterThanOrEqual(17);
    expect(readdirSync(target)).toEqual([]);
  });

  it("an untouched re-seal restores (the tamper tests fail for the edit, not for re-sealing)", async () => {
    const out = reseal(() => {});
    const r = await restoreBackup({ archive: out, dataDir: join(tempDir("backup-reseal-ok"), "d"), masterKey: fx.masterKey });
    expect(r.audit.entries).toBe(fx.audit.head().seq);
  });
});

describe("a passphrase vault", () => {
  it("restores with the passphrase alone: the header carries the vault's scrypt salt", async () => {
    const dataDir = tempDir("backup-pass");
    mkdirSync(dataDir, { recursive: true });
    const passphrase = `correct horse ${randomBytes(6).toString("hex")}`;
    const db = openDb(join(dataDir, DB_FILE));
    const key = masterKeyFromPassphrase(db, passphrase);
    db.close();
    const fx = await makeDataDir({ dataDir, masterKey: { key, bytes: Buffer.alloc(0) } });
    const archive = (await createBackup({ dataDir, masterKey: key, out: join(tempDir("backup-out"), "p.cbobak") })).file;
    await fx.close();
    const header = readArchiveHeader(archive);
    expect(header.kdf?.alg).toBe("scrypt");
    const again = passphraseKeyFor(header, passphrase);
    expect(again.id).toBe(key.id);
    const r = await restoreBackup({ archive, dataDir: join(tempDir("backup-pass-r"), "d"), masterKey: again });
    expect(r.secrets).toBe(6);
    const wrong = passphraseKeyFor(header, passphrase + "!");
    expect((await rejection(restoreBackup({ archive, dataDir: join(tempDir("backup-pass-w"), "d"), masterKey: wrong }))).code).toBe(
      "ERR_VAULT_INTEGRITY",
    );
  });
});
