// <data>/daemon.log under `cbo up`: access lines kept off the terminal, and the file capped.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ACCESS_LOG_MSG } from "../../telemetry/index.ts";
import { fill, freeUp, mountTmpfs, unmount } from "../../../test/support/tmpfs.ts";
import { upDaemonLog } from "./up-log.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("upDaemonLog", () => {
  it("keeps every line in the file and holds back only info-level access lines from the terminal", () => {
    const dir = mkdtempSync(join(tmpdir(), "cbo-up-log-"));
    dirs.push(dir);
    const shown: string[] = [];
    const log = upDaemonLog({ dataDir: dir, verbose: false, terminal: (l) => shown.push(l) });
    log.sink("GET /v1/status 200", { level: "info", msg: ACCESS_LOG_MSG });
    log.sink("drift found", { level: "warn", msg: "drift found" });
    log.close();
    expect(shown).toEqual(["drift found"]);
    expect(readFileSync(log.file, "utf8")).toBe("GET /v1/status 200\ndrift found\n");
    expect(statSync(log.file).mode & 0o777).toBe(0o600);
  });

  it("starts a new file past the cap and keeps one previous file", () => {
    const dir = mkdtempSync(join(tmpdir(), "cbo-up-log-"));
    dirs.push(dir);
    const log = upDaemonLog({ dataDir: dir, verbose: false, terminal: () => {}, maxBytes: 100 });
    for (let i = 0; i < 30; i++) log.sink(`line ${String(i).padStart(3, "0")} ${"x".repeat(20)}`, { level: "info", msg: "m" });
    log.close();
    const current = readFileSync(log.file, "utf8");
    const previous = readFileSync(`${log.file}.1`, "utf8");
    expect(Buffer.byteLength(current)).toBeLessThanOrEqual(100);
    expect(Buffer.byteLength(previous)).toBeLessThanOrEqual(100);
    // The newest line is in the current file, the ones just before it in the previous one: nothing reordered.
    expect(current.trim().split("\n").at(-1)).toMatch(/^line 029 /);
    const all = (previous + current).trim().split("\n");
    expect(all.map((l) => l.slice(0, 8))).toEqual(all.map((_, i) => `line ${String(30 - all.length + i).padStart(3, "0")}`));
    expect(existsSync(`${log.file}.2`)).toBe(false);
  });

  it("continues an existing file's size across starts", () => {
    const dir = mkdtempSync(join(tmpdir(), "cbo-up-log-"));
    dirs.push(dir);
    const first = upDaemonLog({ dataDir: dir, verbose: false, terminal: () => {}, maxBytes: 60 });
    first.sink("a".repeat(40), { level: "info", msg: "m" });
    first.close();
    const second = upDaemonLog({ dataDir: dir, verbose: false, terminal: () => {}, maxBytes: 60 });
    second.sink("b".repeat(40), { level: "info", msg: "m" });
    second.close();
    expect(readFileSync(`${first.file}.1`, "utf8")).toBe(`${"a".repeat(40)}\n`);
    expect(readFileSync(first.file, "utf8")).toBe(`${"b".repeat(40)}\n`);
  });

  it("a full disk: the lines go to the terminal, the file keeps whole lines only, and takes lines again once there is room", () => {
    const dir = mkdtempSync(join(tmpdir(), "cbo-up-log-"));
    dirs.push(dir);
    const disk = join(dir, "disk");
    mountTmpfs(disk, 256 * 1024);
    try {
      let clock = 0;
      const shown: string[] = [];
      const log = upDaemonLog({ dataDir: disk, verbose: false, terminal: (l) => shown.push(l), retryMs: 1_000, now: () => clock });
      log.sink("before", { level: "info", msg: ACCESS_LOG_MSG });
      fill(disk);
      // Lines longer than what is left: some of one gets in before the disk is full.
      for (let i = 0; i < 3; i++) log.sink(`full ${i} ${"x".repeat(8 * 1024)}`, { level: "info", msg: ACCESS_LOG_MSG });
      expect(shown[0]).toMatch(
        /^cbo: cannot write .*daemon\.log \(.*\); the daemon's whole log goes to the terminal, the file is tried again every 1 s$/,
      );
      expect(shown.filter((l) => l.startsWith("full "))).toHaveLength(3); // the one that failed too
      expect(readFileSync(log.file, "utf8")).toBe("before\n");
      freeUp(disk, 128 * 1024);
      clock += 1_000;
      log.sink("after", { level: "info", msg: ACCESS_LOG_MSG });
      log.close();
      expect(shown.at(-1)).toMatch(/^cbo: writing .*daemon\.log again$/);
      expect(readFileSync(log.file, "utf8")).toBe("before\nafter\n");
    } finally {
      unmount(disk);
    }
  });
});
