// A data directory an older version wrote, opened by this one, and one a newer version wrote
// (task UPGRADE). Real SQLite files throughout, made from SQL (test/support/old-store.ts), never
// by building old revisions:
//   - the store of a build from before migration 007, with the rows it wrote, is migrated to this
//     build's schema; every reader takes its rows; reopening changes nothing (idempotent);
//   - the version is written where a later build can read it without knowing our tables (PRAGMA
//     user_version), also for a file an older build brought fully up to date;
//   - migration numbers are 1..N; a store whose migration N came from another file (a branch
//     build's numbering) is refused unchanged instead of skipping this build's N;
//   - a store a newer build wrote (a migration beyond this build's, or only its user_version) is
//     refused with ERR_STORE_TOO_NEW naming both versions, byte for byte unchanged: by createStore,
//     by the daemon's start, by an offline CLI command (exit 1, one line, no stack), `audit verify` too;
//   - a migration killed with SIGKILL part-way (a real child process) leaves the file at its last
//     whole migration, and the next open completes it with every row kept;
//   - the local edge's state file: the same refusal and stamp;
//   - a backup whose database a newer build wrote is refused by restore with that code, leaving
//     nothing; an archive holding an older schema restores, and the daemon's open migrates it.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DB_FILE } from "../src/backup/format.ts";
import { restoreBackup } from "../src/backup/index.ts";
import { sealArchive } from "../src/backup/seal.ts";
import { startDaemon } from "../src/daemon.ts";
import { releasePlanOf, rollbackPlanOf } from "../src/deploy/stored.ts";
import { openEdgeDb } from "../src/local-edge/state/db.ts";
import { createdByOf } from "../src/security/index.ts";
import { createStore } from "../src/store/index.ts";
import { migrationFiles, STORE_SCHEMA_VERSION } from "../src/store/schema-version.ts";
import { generateKeyFile } from "../src/vault/index.ts";
import { UNREACHABLE_EDGE } from "./support/daemon-rig.ts";
import { makeTempDir } from "./support/edge.ts";
import { peekSchema, V6_ROWS, writeOldStore } from "./support/old-store.ts";
import { runCbo } from "./support/run-cbo.ts";

const CHILD = fileURLToPath(new URL("./support/open-store-child.ts", import.meta.url));
const OLD = 6; // the schema of main up to 2026-12-07 07:51 (before Idempotency-Key's migration 007)
const rows = () => readFileSync(V6_ROWS, "utf8");
const sha = (f: string) => createHash("sha256").update(readFileSync(f)).digest("hex");
const count = (db: DatabaseSync, table: string) => Number((db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n);
const errorOf = (f: () => unknown): { code?: string; message?: string; details?: Record<string, unknown>; hint?: string } => {
  try {
    f();
  } catch (e) {
    return e as { code: string };
  }
  throw new Error("expected a refusal");
};

let dir: string;
beforeAll(async () => {
  dir = await makeTempDir("store-upgrade");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A file as a newer build would leave it: this build's schema plus a migration beyond it. */
function newerStore(name: string, how: "migration" | "user_version"): string {
  const file = join(dir, name, DB_FILE);
  const s = createStore(file);
  if (how === "migration") {
    s.db.exec("CREATE TABLE from_the_future (x TEXT)");
    s.db
      .prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)")
      .run(STORE_SCHEMA_VERSION + 1, "2027-01-01T00:00:00.000Z");
  }
  s.db.exec(`PRAGMA user_version = ${STORE_SCHEMA_VERSION + (how === "migration" ? 1 : 3)}`);
  s.close();
  return file;
}

describe("a store an older version wrote", () => {
  it("is migrated to this version's schema, and every reader takes the rows it wrote", () => {
    const file = join(dir, "old", DB_FILE);
    freshDir(join(dir, "old"));
    writeOldStore(file, OLD, rows());
    expect(peekSchema(file)).toEqual({ userVersion: 0, applied: [1, 2, 3, 4, 5, 6] });

    const s = createStore(file);
    try {
      const after = peekSchema(file);
      expect(after.applied).toEqual(Array.from({ length: STORE_SCHEMA_VERSION }, (_, i) => i + 1));
      expect(after.userVersion).toBe(STORE_SCHEMA_VERSION);

      const releases = s.releases.list({ limit: 100 });
      expect(releases.map((r) => r.worker).sort()).toEqual(["ads-api", "ads-attribution"]);
      for (const r of releases) {
        const plan = r.kind === "rollback" ? rollbackPlanOf(r) : releasePlanOf(r);
        expect(plan.worker).toBe(r.worker);
        expect(s.releases.entries(r.id).length).toBeGreaterThan(0);
      }
      expect(s.events.list({ limit: 1000 })).toHaveLength(36);
      // The "By" columns of config history: an old actor string reads as a token's name and id.
      const history = s.configs.history("default", "ads-api");
      expect(history.map((v) => v.version)).toEqual([2, 1]);
      expect(createdByOf(history[0]!.created_by)).toEqual({
        createdBy: "initial admin",
        createdByToken: "b5072aaa-808a-47aa-b2be-b04758463450",
      });
      expect(createdByOf(history[1]!.created_by)).toEqual({ createdBy: "cbo up", createdByToken: null });
      expect(
        s.catalog
          .targets()
          .map((t) => t.name)
          .sort(),
      ).toEqual(["ap", "eu", "us"]);
      expect(
        s.catalog
          .workers()
          .map((w) => w.name)
          .sort(),
      ).toEqual(["ads-api", "ads-attribution"]);
      expect(s.catalog.versions("default", "ads-api").every((v) => v.facts === null)).toBe(true);
      expect(s.drift.list()).toHaveLength(6);
      expect(s.health.list()).toHaveLength(6);
      expect(s.agents.isolates("default", "ads-api")).toHaveLength(3);
      // 011: no release of an older build was held (they did not keep pauses); a new hold is kept.
      for (const r of releases) expect(s.holds.get(r.id)).toBeUndefined();
      s.holds.put(releases[0]!.id, { paused: true, pausedBy: "ops", granted: { "0:0": null }, timers: {} });
      expect(s.holds.get(releases[0]!.id)).toEqual({ paused: true, pausedBy: "ops", granted: { "0:0": null }, timers: {} });
      s.holds.drop(releases[0]!.id);
    } finally {
      s.close();
    }

    // Idempotent: opening again applies nothing and changes no row.
    const before = sha(file);
    const again = createStore(file);
    expect(count(again.db, "schema_migrations")).toBe(STORE_SCHEMA_VERSION);
    again.close();
    expect(sha(file)).toBe(before);
  });

  it("an older version's fully migrated file (user_version 0) gets its version stamped in the header", () => {
    freshDir(join(dir, "stamp"));
    const file = join(dir, "stamp", DB_FILE);
    writeOldStore(file, STORE_SCHEMA_VERSION);
    expect(peekSchema(file).userVersion).toBe(0);
    createStore(file).close();
    expect(peekSchema(file).userVersion).toBe(STORE_SCHEMA_VERSION);
  });
});

describe("migration numbers", () => {
  it("are 1..N, one file each (two branches adding the same NNN must be renumbered when merged)", () => {
    const files = migrationFiles();
    expect(files.map((m) => m.version)).toEqual(Array.from({ length: files.length }, (_, i) => i + 1));
    expect(STORE_SCHEMA_VERSION).toBe(files.length);
  });

  it("a store migrated by a build whose migration N is another file is refused, unchanged; the names are kept from then on", () => {
    freshDir(join(dir, "renumbered"));
    const file = join(dir, "renumbered", DB_FILE);
    writeOldStore(file, OLD, rows());
    createStore(file).close();
    const names = new DatabaseSync(file);
    expect(names.prepare("SELECT name FROM schema_migrations WHERE version = 7").get()).toEqual({ name: "007_idempotency.sql" });
    // What a branch build leaves: its own 007 (as wt/wiring's 007_target_resources.sql was, before the merge renumbered it).
    names.prepare("UPDATE schema_migrations SET name = '007_target_resources.sql' WHERE version = 7").run();
    names.close();
    const before = sha(file);
    const e = errorOf(() => createStore(file));
    expect(e.code).toBe("ERR_STORE_CORRUPT");
    expect(e.message).toBe(
      `${file}: its migration 7 was applied from 007_target_resources.sql, but this cbo's migration 7 is 007_idempotency.sql: a build whose migrations are numbered otherwise migrated it, and opening it here would skip one; it was left unchanged.`,
    );
    expect(sha(file)).toBe(before);
  });

  it("rows an older build wrote without names get this build's", () => {
    freshDir(join(dir, "unnamed"));
    const file = join(dir, "unnamed", DB_FILE);
    writeOldStore(file, OLD);
    createStore(file).close();
    const db = new DatabaseSync(file, { readOnly: true });
    const got = db.prepare("SELECT version, name FROM schema_migrations ORDER BY version").all();
    db.close();
    expect(got).toEqual(migrationFiles().map((m) => ({ version: m.version, name: m.file })));
  });
});

describe("a store a newer version wrote", () => {
  for (const how of ["migration", "user_version"] as const) {
    it(`(its ${how === "migration" ? "schema_migrations" : "user_version alone"} beyond this build's) is refused, unchanged`, () => {
      const file = newerStore(`newer-${how}`, how);
      const before = sha(file);
      const e = errorOf(() => createStore(file));
      expect(e.code).toBe("ERR_STORE_TOO_NEW");
      const found = STORE_SCHEMA_VERSION + (how === "migration" ? 1 : 3);
      expect(e.message).toBe(
        `${file} was written by a newer cbo (schema version ${found}; this cbo knows up to ${STORE_SCHEMA_VERSION}); it was left unchanged.`,
      );
      expect(e.details).toEqual({ path: file, found, known: STORE_SCHEMA_VERSION });
      expect(e.hint).toMatch(/^Run the cbo that wrote it, or a newer one/);
      expect(sha(file)).toBe(before);
    });
  }

  it("the daemon's start refuses it before writing anything (no vault sealed, no admin token)", async () => {
    const file = newerStore("newer-daemon", "migration");
    const data = join(dir, "newer-daemon");
    const yaml = join(dir, "orchestrator.yaml");
    writeFileSync(yaml, "version: 1\ntargets:\n  - { name: eu, api: local }\n");
    generateKeyFile(join(data, "master.key"));
    const before = sha(file);
    const started = startDaemon({
      dataDir: data,
      configFile: yaml,
      port: 0,
      edge: UNREACHABLE_EDGE,
      log: () => {},
      env: {},
      fallbackMasterKeyFile: join(data, "master.key"),
    });
    await expect(started).rejects.toMatchObject({ code: "ERR_STORE_TOO_NEW" });
    expect(sha(file)).toBe(before);
    expect(existsSync(join(data, "admin-token"))).toBe(false);
  });

  it("an offline command says so in one line with the code, exit 1, no stack", async () => {
    const file = newerStore("newer-cli", "migration");
    const data = join(dir, "newer-cli");
    generateKeyFile(join(data, "master.key"));
    const before = sha(file);
    const r = await runCbo(["tokens", "create", "--offline", "--data", data, "--name", "x", "--role", "admin"], {
      env: { CBO_MASTER_KEY_FILE: join(data, "master.key") },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error ERR_STORE_TOO_NEW: ${file} was written by a newer cbo (schema version ${STORE_SCHEMA_VERSION + 1};`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).not.toMatch(/cbo_admin_/);
    expect(sha(file)).toBe(before);
  });

  it("cbo audit verify (read-only, offline) refuses it too, rather than judge a newer log by this build's rules", async () => {
    const file = newerStore("newer-verify", "user_version");
    const before = sha(file);
    const r = await runCbo(["audit", "verify", "--db", file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error ERR_STORE_TOO_NEW: ${file} was written by a newer cbo (schema version ${STORE_SCHEMA_VERSION + 3};`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).not.toMatch(/verifies/);
    expect(sha(file)).toBe(before);
  });
});

describe("a migration killed part-way", () => {
  it("(SIGKILL of a real process) leaves the last whole migration; the next open completes it, every row kept", async () => {
    freshDir(join(dir, "killed"));
    const file = join(dir, "killed", DB_FILE);
    // Enough agent traffic that migration 009 (an index over it) takes a while to build.
    const traffic =
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400000) " +
      "INSERT INTO agent_traffic SELECT 'default', 'w' || (i % 7), 'eu', 'v' || (i % 13), i, i % 50, i % 3 FROM n";
    writeOldStore(file, OLD, `${rows()}; ${traffic}`);
    const expected = { events: 36, traffic: 400006 };
    const pristine = readFileSync(file);
    const seen: number[] = [];
    for (const delayMs of [0, 30, 80, 150, 300]) {
      rmSync(file, { force: true });
      for (const extra of ["-wal", "-shm"]) rmSync(file + extra, { force: true });
      writeFileSync(file, pristine);
      await killWhileOpening(file, delayMs);
      const { applied, userVersion } = peekSchema(file);
      // What the kill left is a whole prefix of the migrations, its user_version matching.
      expect(applied).toEqual(Array.from({ length: applied.length }, (_, i) => i + 1));
      expect(applied.length).toBeGreaterThanOrEqual(OLD);
      if (applied.length > OLD) expect(userVersion).toBe(applied.length);
      seen.push(applied.length);

      const s = createStore(file, { check: true });
      expect(peekSchema(file).applied).toHaveLength(STORE_SCHEMA_VERSION);
      expect(count(s.db, "events")).toBe(expected.events);
      expect(count(s.db, "agent_traffic")).toBe(expected.traffic);
      expect(s.db.prepare("SELECT name FROM sqlite_master WHERE name = 'agent_traffic_by_time'").get()).toBeDefined();
      s.close();
    }
    // At least one kill landed before the migrations were done (else this test proved nothing).
    expect(Math.min(...seen)).toBeLessThan(STORE_SCHEMA_VERSION);
  }, 120_000);
});

describe("the local edge's state", () => {
  it("a file a newer cbo wrote is refused unchanged; an older one is brought up and stamped", () => {
    const newer = join(dir, "edge-newer");
    openEdgeDb(newer).close();
    const file = join(newer, "edge.sqlite");
    const db = new DatabaseSync(file);
    const known = Number((db.prepare("SELECT MAX(version) AS v FROM schema_migrations").get() as { v: number }).v);
    expect(Number((db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version)).toBe(known);
    db.prepare("INSERT INTO schema_migrations (version) VALUES (?)").run(known + 1);
    db.close();
    const before = sha(file);
    const e = errorOf(() => openEdgeDb(newer));
    expect(e.code).toBe("ERR_STORE_TOO_NEW");
    expect(e.message).toContain(`(schema version ${known + 1}; this cbo knows up to ${known})`);
    expect(sha(file)).toBe(before);

    // An older build's file: its migrations applied, no user_version.
    const older = join(dir, "edge-older");
    openEdgeDb(older).close();
    const o = new DatabaseSync(join(older, "edge.sqlite"));
    o.exec("PRAGMA user_version = 0");
    o.close();
    openEdgeDb(older).close();
    expect(peekEdge(join(older, "edge.sqlite"))).toBe(known);
  });
});

describe("backups across versions", () => {
  it("an archive whose database a newer cbo wrote is refused by restore with ERR_STORE_TOO_NEW, leaving nothing", async () => {
    const key = generateKeyFile(join(dir, "backup.key"));
    const file = newerStore("newer-backup", "migration");
    const out = join(dir, "newer.cbo");
    sealArchive({
      files: [{ name: DB_FILE, path: file, bytes: statSync(file).size }],
      masterKey: key,
      out,
      tmp: join(dir, "newer.cbo.tmp"),
      createdAt: new Date().toISOString(),
    });
    const target = join(dir, "restored-newer");
    await expect(restoreBackup({ archive: out, dataDir: target, masterKey: key })).rejects.toMatchObject({
      code: "ERR_STORE_TOO_NEW",
      message: `The backup's database was written by a newer cbo (schema version ${STORE_SCHEMA_VERSION + 1}; this cbo knows up to ${STORE_SCHEMA_VERSION}); it was left unchanged.`,
    });
    expect(existsSync(target)).toBe(false);
  });

  it("an archive an older version made restores, and opening it migrates it", async () => {
    const key = generateKeyFile(join(dir, "backup-old.key"));
    freshDir(join(dir, "old-backup"));
    const file = join(dir, "old-backup", DB_FILE);
    writeOldStore(file, OLD, rows());
    const out = join(dir, "old.cbo");
    sealArchive({
      files: [{ name: DB_FILE, path: file, bytes: statSync(file).size }],
      masterKey: key,
      out,
      tmp: join(dir, "old.cbo.tmp"),
      createdAt: new Date().toISOString(),
    });
    const target = join(dir, "restored-old");
    const r = await restoreBackup({ archive: out, dataDir: target, masterKey: key });
    expect(r.releases.total).toBe(2);
    expect(readdirSync(target).sort()).toEqual([DB_FILE]);
    expect(peekSchema(join(target, DB_FILE)).applied).toHaveLength(OLD);
    const s = createStore(join(target, DB_FILE));
    expect(peekSchema(join(target, DB_FILE)).userVersion).toBe(STORE_SCHEMA_VERSION);
    expect(s.releases.list()).toHaveLength(2);
    s.close();
  });
});

function peekEdge(file: string): number {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    return Number((db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version);
  } finally {
    db.close();
  }
}

/** Runs test/support/open-store-child.ts on `file` and SIGKILLs it `delayMs` after it says `opening`. */
function killWhileOpening(file: string, delayMs: number): Promise<void> {
  const child = spawn(process.execPath, [CHILD, file], { stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let err = "";
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    child.stdout.setEncoding("utf8").on("data", (s: string) => {
      if (s.includes("opening")) setTimeout(() => child.kill("SIGKILL"), delayMs);
    });
    child.on("exit", (code, signal) => (signal === "SIGKILL" || code === 0 ? resolve() : reject(new Error(`child: ${code} ${err}`))));
  });
}

/** An empty directory at `d`. */
function freshDir(d: string): void {
  rmSync(d, { recursive: true, force: true });
  mkdirSync(d, { recursive: true });
}
