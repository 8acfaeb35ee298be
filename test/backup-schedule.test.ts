// The backup schedule as the daemon runs it: on a timer, with retention, never overlapping, and
// carrying on after a failure.
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listArchives, restoreBackup, startBackupSchedule, type BackupSchedule } from "../src/backup/index.ts";
import type { CboError } from "../src/kit/errors.ts";
import { makeDataDir, tempDir, type Fixture } from "./backup-fixture.ts";
import { lineLogger } from "../src/telemetry/index.ts";

const until = async (cond: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe("startBackupSchedule", () => {
  let fx: Fixture;
  const schedules: BackupSchedule[] = [];
  beforeAll(async () => {
    fx = await makeDataDir();
  });
  afterAll(async () => {
    for (const s of schedules) await s.stop();
    await fx.close();
  });

  it("keeps the N newest archives (runNow), each restorable; foreign files stay", async () => {
    const dir = tempDir("backup-keep");
    writeFileSync(join(dir, "README"), "not an archive");
    let clock = Date.parse("2026-03-01T00:00:00Z");
    const s = startBackupSchedule({
      dataDir: fx.dataDir,
      db: fx.store.db,
      masterKey: fx.masterKey,
      every: 3_600_000,
      keep: 3,
      dir,
      now: () => new Date((clock += 60_000)),
    });
    schedules.push(s);
    const results = [];
    for (let i = 0; i < 5; i++) {
      fx.audit.append({ actor: "test", action: "test.tick", outcome: "ok", details: { i } });
      results.push(await s.runNow());
    }
    expect(results.map((r) => r.removed.length)).toEqual([0, 0, 0, 1, 1]);
    expect(listArchives(dir)).toEqual(results.slice(2).map((r) => r.file));
    expect(readdirSync(dir)).toContain("README");
    expect(results.slice(0, 2).every((r) => !existsSync(r.file))).toBe(true);
    const newest = await restoreBackup({
      archive: results[4]!.file,
      dataDir: join(tempDir("backup-keep-r"), "d"),
      masterKey: fx.masterKey,
    });
    expect(newest.audit.entries).toBe(fx.audit.head().seq);
  });

  it("runs on its timer, never two at once, and stops", async () => {
    const dir = tempDir("backup-timer");
    const done: string[] = [];
    const s = startBackupSchedule({
      dataDir: fx.dataDir,
      masterKey: fx.masterKey,
      every: 40,
      keep: 2,
      dir,
      onBackup: (r) => void done.push(r.file),
    });
    schedules.push(s);
    const [a, b] = [s.runNow(), s.runNow()];
    expect(a).toBe(b);
    await a;
    await until(() => done.length >= 4);
    await s.stop();
    const after = done.length;
    await new Promise((r) => setTimeout(r, 150));
    expect(done.length).toBe(after);
    expect(listArchives(dir).length).toBe(2);
    await expect(s.runNow()).rejects.toMatchObject({ code: "ERR_CONFLICT" });
  });

  it("a failing run is logged and the schedule carries on", async () => {
    const empty = tempDir("backup-nodb");
    const errors: CboError[] = [];
    const lines: string[] = [];
    const s = startBackupSchedule({
      dataDir: empty,
      masterKey: fx.masterKey,
      every: 30,
      keep: 1,
      dir: join(empty, "b"),
      log: lineLogger((l) => lines.push(l)),
      onError: (e) => errors.push(e),
    });
    schedules.push(s);
    await until(() => errors.length >= 2);
    await s.stop();
    expect(errors[0]!.code).toBe("ERR_NOT_FOUND");
    expect(lines[0]).toMatch(/^backup: failed: ERR_NOT_FOUND: There is no orchestrator database at /);
    expect(listArchives(join(empty, "b"))).toEqual([]);
  });

  it("refuses nonsense settings", () => {
    expect(() => startBackupSchedule({ dataDir: fx.dataDir, masterKey: fx.masterKey, every: 0, keep: 1 })).toThrow(/every/);
    expect(() => startBackupSchedule({ dataDir: fx.dataDir, masterKey: fx.masterKey, every: 1000, keep: 0 })).toThrow(/keep/);
  });
});
