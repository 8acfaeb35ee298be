// A lost or damaged database never resets the daemon (issue 11, item 9). The real daemon
// (startDaemon) on a real data directory, with real files changed under it between starts:
//   - orchestrator.sqlite emptied (0 bytes) or deleted while the directory holds the admin token,
//     audit checkpoints and daemon.json: the start is refused with ERR_STORE_LOST pointing to
//     `cbo restore` (and the newest backup), and nothing is written: no new vault, the admin token
//     file untouched, the empty file still empty;
//   - a new directory holding only the master key (what `cbo init` leaves before the first start)
//     still starts as a new orchestrator;
//   - pages overwritten in the middle of the file: ERR_STORE_CORRUPT naming the file and the way
//     back, not "the audit log could not be written".
// The edge is never called: the spec has one local target and no workers.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDaemon, type DaemonOptions } from "../src/daemon.ts";
import { UNREACHABLE_EDGE as EDGE } from "./support/daemon-rig.ts";
import { listArchives, restoreBackup, RESTORE_MARKER } from "../src/backup/index.ts";
import { generateKeyFile, masterKeyFromFile } from "../src/vault/index.ts";
import { call } from "./support/api-fixtures.ts";
import { makeTempDir } from "./support/edge.ts";
import { CBO_BIN, cboEnv } from "./support/run-cbo.ts";

let dir: string;
const start = (dataDir: string, more: Partial<DaemonOptions> = {}) =>
  startDaemon({
    dataDir,
    configFile: join(dir, "orchestrator.yaml"),
    port: 0,
    edge: EDGE,
    log: () => {},
    env: {},
    fallbackMasterKeyFile: join(dataDir, "master.key"),
    ...more,
  });
const failure = (p: Promise<{ close(): Promise<void> }>) =>
  p.then(
    async (d) => {
      await d.close();
      return { code: "started", message: "", hint: "", details: {} as Record<string, unknown> };
    },
    (e: { code: string; message: string; hint?: string; details?: Record<string, unknown> }) => ({
      code: e.code,
      message: e.message,
      hint: e.hint ?? "",
      details: e.details ?? {},
    }),
  );

/** A data directory that a daemon has run in: a secret, a second token, a backup, a clean stop. */
async function usedDataDir(name: string): Promise<string> {
  const data = join(dir, name);
  const d = await start(data, { auditCheckpointEvery: { entries: 5, ms: 60_000 } });
  const token = d.initialAdminToken!;
  expect((await call(d.url, "PUT", "/v1/secrets/KEEP_ME", { token, json: { value: "lost-store-test" } })).status).toBe(200);
  expect((await call(d.url, "POST", "/v1/tokens", { token, json: { name: "ci", role: "deployer" } })).status).toBe(200);
  expect((await call(d.url, "POST", "/v1/backups", { token, json: {} })).status).toBe(200);
  await d.close();
  return data;
}

beforeAll(async () => {
  dir = await makeTempDir("store-lost");
  writeFileSync(join(dir, "orchestrator.yaml"), "version: 1\ntargets:\n  - { name: eu, api: local }\n");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("a data directory that has held state", () => {
  it("with its database emptied (0 bytes): refused with ERR_STORE_LOST, nothing reset", async () => {
    const data = await usedDataDir("emptied");
    const adminToken = readFileSync(join(data, "admin-token"), "utf8");
    const db = join(data, "orchestrator.sqlite");
    truncateSync(db, 0);
    for (const f of ["-wal", "-shm"]) rmSync(db + f, { force: true });
    const logs: string[] = [];
    const r = await failure(start(data, { log: (l) => logs.push(l) }));
    expect(r.code).toBe("ERR_STORE_LOST");
    expect(r.message).toContain(
      `${db} is empty, but ${data} has held an orchestrator's state (admin-token, daemon.json, orchestrator-key.json, audit-checkpoints.jsonl, backups)`,
    );
    expect(r.message).toContain("refuses to start");
    // The way back: cbo restore with the newest backup and the checkpoint file.
    expect(r.hint).toMatch(
      new RegExp(
        `cbo restore ${data}/backups/cbo-backup-\\d{8}T\\d{9}Z-[0-9a-f]{6}\\.cbobak --data <new dir> --checkpoint ${data}/audit-checkpoints.jsonl`,
      ),
    );
    expect(r.details).toMatchObject({ path: db, state: "empty" });
    // Nothing was written: the token file is the old one, the database is still empty, no vault was sealed.
    expect(readFileSync(join(data, "admin-token"), "utf8")).toBe(adminToken);
    expect(statSync(db).size).toBe(0);
    expect(logs.join("\n")).not.toMatch(/new vault sealed/);
  });

  it("with its database deleted: refused the same way, naming it missing", async () => {
    const data = await usedDataDir("deleted");
    const adminToken = readFileSync(join(data, "admin-token"), "utf8");
    const db = join(data, "orchestrator.sqlite");
    rmSync(db);
    for (const f of ["-wal", "-shm"]) rmSync(db + f, { force: true });
    const r = await failure(start(data));
    expect(r.code).toBe("ERR_STORE_LOST");
    expect(r.message).toMatch(new RegExp(`^${db} is missing, but ${data} has held an orchestrator's state \\(admin-token, `));
    expect(existsSync(db)).toBe(false);
    expect(readFileSync(join(data, "admin-token"), "utf8")).toBe(adminToken);
  });

  it("a new directory with only its master key (as `cbo init` leaves it) starts as a new orchestrator", async () => {
    const data = join(dir, "fresh");
    generateKeyFile(join(data, "master.key"));
    const d = await start(data);
    expect(d.initialAdminToken).toMatch(/^cbo_admin_/);
    await d.close();
    // And the second start of that directory is an ordinary one.
    const again = await start(data);
    expect(again.initialAdminToken).toBeUndefined();
    await again.close();
  });
});

// The admin token is shown once: a first start that stores it but cannot write <data>/admin-token
// (a full disk, a kill -9 at that moment) must not keep the token, or every later start finds a
// token in the store and issues none, and nobody holds one. The file is written through a working
// copy, <file>.tmp-<pid> (this process's pid: the daemon runs in it); a directory in its place
// makes that write fail at that exact moment, as ENOSPC would.
describe("a first start that cannot write the admin token file", () => {
  it("keeps no token; the next start issues one, written to the file, that the daemon takes", async () => {
    const data = join(dir, "token-unwritten");
    generateKeyFile(join(data, "master.key"));
    const workingCopy = join(data, `admin-token.tmp-${process.pid}`);
    mkdirSync(workingCopy);
    const r = await failure(start(data));
    expect(r.code).not.toBe("started");
    expect(r).toMatchObject({
      code: "ERR_IO",
      message: expect.stringContaining(`The admin token file ${join(data, "admin-token")} could not`),
    });
    expect(r.hint).toMatch(/start the daemon again: it issues the admin token then/);
    expect(existsSync(join(data, "admin-token"))).toBe(false);
    rmSync(workingCopy, { recursive: true });
    const d = await start(data);
    try {
      expect(d.initialAdminToken).toMatch(/^cbo_admin_/);
      expect(readFileSync(join(data, "admin-token"), "utf8")).toBe(`${d.initialAdminToken}\n`);
      expect((await call(d.url, "GET", "/v1/tokens", { token: d.initialAdminToken! })).status).toBe(200);
    } finally {
      await d.close();
    }
  });
});

// A kill -9 (or the power going) as a checkpoint line is appended to audit-checkpoints.jsonl leaves
// it cut off, without its newline. The next start's append ran on from it, so the new checkpoint was
// unreadable too and `cbo audit verify` failed on that file for good.
describe("a checkpoint file whose last line was cut off", () => {
  it("the next start appends on a line of its own; cbo audit verify passes", async () => {
    const data = await usedDataDir("cut-checkpoint");
    const file = join(data, "audit-checkpoints.jsonl");
    const lines = readFileSync(file, "utf8").split("\n").filter(Boolean).length;
    truncateSync(file, statSync(file).size - 40);
    const d = await start(data);
    await d.close();
    const after = readFileSync(file, "utf8");
    expect(after.endsWith("\n")).toBe(true);
    // The cut line is gone, put back whole from the database, and the stop signed one more.
    expect(after.split("\n").filter(Boolean).length).toBeGreaterThanOrEqual(lines + 1);
    const verify = spawnSync(process.execPath, [CBO_BIN, "audit", "verify", "--data", data], { encoding: "utf8", env: cboEnv() });
    expect(verify.status, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout).not.toMatch(/cannot be read/);
  });
});

describe("a damaged database", () => {
  it("pages overwritten in the middle of the file: ERR_STORE_CORRUPT with the way back, not an audit error", async () => {
    const data = await usedDataDir("damaged");
    const db = join(data, "orchestrator.sqlite");
    const pristine = join(dir, "pristine.sqlite");
    copyFileSync(db, pristine);
    const pages = Math.floor(statSync(db).size / 4096);
    expect(pages).toBeGreaterThan(8);
    const fd = openSync(db, "r+");
    try {
      for (let p = Math.floor(pages / 2) - 2; p < Math.floor(pages / 2) + 2; p++) writeSync(fd, randomBytes(4096), 0, 4096, p * 4096);
    } finally {
      closeSync(fd);
    }
    const r = await failure(start(data));
    expect(r.code).toBe("ERR_STORE_CORRUPT");
    // Random pages: quick_check either lists what it found or stops at the first malformed page.
    expect(r.message).toMatch(
      new RegExp(`^The orchestrator's database ${db} is damaged \\((SQLite's quick_check: |database disk image is malformed)`),
    );
    expect(r.hint).toContain("cbo restore <archive> --data <new dir>");
    // A file that is not a database at all is named the same way.
    writeFileSync(db, randomBytes(64 * 1024));
    const notADb = await failure(start(data));
    expect([notADb.code, notADb.message]).toEqual(["ERR_STORE_CORRUPT", expect.stringMatching(/is damaged \(file is not a database\)/)]);
    // The untouched copy opens: the refusal was about the damage, not the directory.
    copyFileSync(pristine, db);
    const d = await start(data);
    await d.close();
  });
});

describe("a restore stopped part-way (SIGKILL after its files were written, before they were verified)", () => {
  it("the daemon refuses the directory (ERR_STORE_CORRUPT, naming the restore to run again); that restore clears what was left and succeeds", async () => {
    const data = await usedDataDir("restore-source");
    const archive = listArchives(join(data, "backups")).at(-1)!;
    const masterKeyFile = join(data, "master.key");
    const masterKey = masterKeyFromFile(masterKeyFile);
    // What the stopped restore left: the archive's files (complete, never verified) and its marker,
    // naming a process that is gone.
    const scratch = join(dir, "restore-scratch");
    await restoreBackup({ archive, dataDir: scratch, masterKey });
    const target = join(dir, "restore-target");
    mkdirSync(target, { mode: 0o700 });
    for (const f of ["orchestrator.sqlite", "audit-checkpoints.jsonl"]) copyFileSync(join(scratch, f), join(target, f));
    const gone = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout;
    writeFileSync(join(target, RESTORE_MARKER), JSON.stringify({ pid: Number(gone), archive, startedAt: new Date().toISOString() }));

    const r = await failure(start(target, { masterKeyFile }));
    expect(r.code).toBe("ERR_STORE_CORRUPT");
    expect(r.message).toContain(`${target} holds a restore that did not finish (of ${archive}`);
    expect(r.hint).toContain(`cbo restore ${archive} --data ${target}`);

    const restored = await restoreBackup({ archive, dataDir: target, masterKey });
    expect(restored.dataDir).toBe(target);
    expect(existsSync(join(target, RESTORE_MARKER))).toBe(false);
    const d = await start(target, { masterKeyFile });
    await d.close();
  });
});
