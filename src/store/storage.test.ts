// The storage watch on a real SQLite file whose writes fail with SQLITE_FULL while the filesystem
// has room: a page limit (PRAGMA max_page_count) stands in for what statfs cannot see, a quota
// (EDQUOT) or a size limit. The watch must not flip between "full" and "resumed" and log both on
// every probe: after the first time it probes less and less often, quietly, and says once that
// writes keep failing although the filesystem has room. (A filesystem that really fills:
// test/disk-full.test.ts.)
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createStore } from "./index.ts";
import { lineLogger } from "../telemetry/index.ts";

describe("storage watch", () => {
  it("pauses on SQLITE_FULL, and backs off quietly when the filesystem shows room but writes keep failing", () => {
    const logs: string[] = [];
    // Probed by hand below; the watch's own timer (1 s and longer) does not fire during the test.
    const store = createStore(join(mkdtempSync(join(tmpdir(), "cbo-storage-watch-")), "o.sqlite"), {
      storage: { probeMs: 1_000, headroomBytes: 1024, log: lineLogger((l) => logs.push(l)) },
    });
    const { db, storage } = store;
    db.exec("CREATE TABLE filler (b BLOB)");
    const pages = Number((db.prepare("PRAGMA page_count").get() as { page_count: number }).page_count);
    db.exec(`PRAGMA max_page_count = ${pages + 1}`);
    const write = () => {
      try {
        db.prepare("INSERT INTO filler VALUES (zeroblob(65536))").run();
        return "ok";
      } catch (e) {
        return (storage.classify(e) as { code?: string }).code ?? "raw";
      }
    };
    expect(storage.paused()).toBe(false);
    expect(write()).toBe("ERR_DISK_FULL");
    expect(storage.paused()).toBe(true);
    expect(storage.state()).toMatchObject({ full: true, path: db.location(), neededBytes: expect.any(Number), probeInMs: 1_000 });
    // Each probe finds room on the filesystem, checkpoints and resumes; the writer fails again.
    const intervals: number[] = [];
    for (let i = 0; i < 5; i++) {
      expect(storage.probe()).toBe(true);
      expect(storage.paused()).toBe(false);
      expect(write()).toBe("ERR_DISK_FULL");
      intervals.push((storage.state() as { probeInMs: number }).probeInMs);
    }
    expect(intervals).toEqual([2_000, 4_000, 8_000, 16_000, 32_000]);
    expect(logs.filter((l) => / is full /.test(l))).toHaveLength(1);
    expect(logs.filter((l) => /writes resume/.test(l))).toHaveLength(1);
    expect(logs.filter((l) => /writes keep failing for lack of room although .* is free on the filesystem/.test(l))).toHaveLength(1);
    store.close();
  });
});
