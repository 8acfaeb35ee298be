import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { archiveName, listArchives, pruneArchives } from "./retention.ts";

describe("archive names and retention", () => {
  it("names sort by time to the millisecond and are unique", () => {
    const a = archiveName(new Date("2026-01-02T03:04:05.006Z"));
    expect(a).toMatch(/^cbo-backup-20260102T030405006Z-[0-9a-f]{6}\.cbobak$/);
    expect(archiveName(new Date("2026-01-02T03:04:05.006Z"))).not.toBe(a);
    expect([archiveName(new Date("2026-10-01T00:00:00Z")), archiveName(new Date("2026-09-30T23:59:59.999Z"))].sort()[0]).toMatch(
      /^cbo-backup-20260930T/,
    );
  });

  it("keeps the N newest archives and never touches other files", () => {
    const dir = mkdtempSync(join(tmpdir(), "cbo-retention-"));
    const times = ["2026-01-05", "2026-01-01", "2026-01-03", "2026-01-04", "2026-01-02"].map((d) => new Date(`${d}T12:00:00Z`));
    const names = times.map((t) => archiveName(t));
    for (const n of names) writeFileSync(join(dir, n), "x");
    for (const other of ["notes.txt", "cbo-backup-latest.cbobak", "cbo-backup-20260106T120000000Z-zzzzzz.cbobak"])
      writeFileSync(join(dir, other), "keep");
    expect(listArchives(dir).length).toBe(5);
    const removed = pruneArchives(dir, 2);
    expect(removed.map((f) => f.slice(dir.length + 1)).sort()).toEqual([names[1], names[4], names[2]].sort());
    expect(readdirSync(dir).sort()).toEqual(
      [names[0], names[3], "cbo-backup-20260106T120000000Z-zzzzzz.cbobak", "cbo-backup-latest.cbobak", "notes.txt"].sort(),
    );
    expect(pruneArchives(dir, 5)).toEqual([]);
    expect(() => pruneArchives(dir, 0)).toThrow(/keep must be/);
    expect(listArchives(join(dir, "missing"))).toEqual([]);
  });
});
