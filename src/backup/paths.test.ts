// Where the daemon writes an archive it is asked for, on real directories (a temp dir of ours,
// and the host's own /etc, /dev and /).
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CboError } from "../kit/errors.ts";
import { checkArchivePlace, pathProblem } from "./paths.ts";

const root = mkdtempSync(join(tmpdir(), "cbo-backup-paths-"));
const dataDir = join(root, "data");
mkdirSync(join(dataDir, "tunnel"), { recursive: true });
const backupDir = join(dataDir, "backups");
afterAll(() => rmSync(root, { recursive: true, force: true }));

function refusal(o: { out?: string; dir?: string }, uid?: number): CboError {
  try {
    checkArchivePlace({ ...o, dataDir, backupDir, ...(uid === undefined ? {} : { uid }) });
  } catch (e) {
    expect(e).toBeInstanceOf(CboError);
    return e as CboError;
  }
  throw new Error(`expected ${JSON.stringify(o)} to be refused`);
}

describe("where the daemon writes an archive", () => {
  it("refuses malformed paths by their shape", () => {
    expect(pathProblem("/tmp/a\0b")).toMatch(/NUL/);
    expect(pathProblem("relative/x")).toMatch(/absolute/);
    expect(pathProblem(`/tmp/${"n".repeat(4000)}`)).toMatch(/longer than 255 bytes/);
    expect(pathProblem(`/${"a/".repeat(2100)}`)).toMatch(/longer than 4096 bytes/);
    expect(pathProblem("/tmp/../etc/x")).toMatch(/\.\./);
    expect(pathProblem("/tmp/x.cbobak")).toBeUndefined();
  });

  it("refuses what the attack sent, with 4xx codes and nothing created", () => {
    expect(refusal({ out: "/dev/null" }).code).toBe("ERR_CONFLICT");
    expect(refusal({ out: "/etc/passwd" }).code).toBe("ERR_CONFLICT");
    for (const dir of ["/dev/null", "/etc/passwd"])
      expect(refusal({ dir })).toMatchObject({ code: "ERR_VALIDATION", message: expect.stringContaining("not a directory") });
    expect(refusal({ out: "/tmp/x\0y" }).code).toBe("ERR_VALIDATION");
    expect(refusal({ out: `/tmp/${"n".repeat(4000)}` }).code).toBe("ERR_VALIDATION");
    expect(refusal({ out: "/nonexistent/dir/x" })).toMatchObject({
      code: "ERR_VALIDATION",
      message: expect.stringContaining("neither it nor /nonexistent exists"),
    });
    expect(existsSync("/nonexistent")).toBe(false);
  });

  it("refuses directories of another user and the rest of the data directory", () => {
    if (process.getuid?.() !== 0) {
      expect(refusal({ dir: "/etc" }).message).toContain("does not belong to the daemon's user");
      expect(refusal({ dir: "/etc/cbo-new" }).message).toContain("/etc does not belong to the daemon's user");
      expect(refusal({ out: "/x.cbobak" }).message).toContain("/ does not belong to the daemon's user");
    }
    // Whoever owns it: the same directory under another uid is refused.
    expect(refusal({ dir: root }, statSync(root).uid + 1).message).toContain("does not belong to the daemon's user");
    expect(refusal({ dir: dataDir }).message).toContain("inside the data directory");
    expect(refusal({ out: join(dataDir, "tunnel", "a.cbobak") }).message).toContain("inside the data directory");
    expect(refusal({ dir: join(dataDir, "new") }).message).toContain("inside the data directory");
    // A link to the data directory leads into it all the same.
    symlinkSync(dataDir, join(root, "link"));
    expect(refusal({ dir: join(root, "link") }).message).toContain("inside the data directory");
  });

  it("takes the backup directory (created when missing), a directory of its own user, or a new one directly inside that", () => {
    const ok = (o: { out?: string; dir?: string }) => expect(() => checkArchivePlace({ ...o, dataDir, backupDir })).not.toThrow();
    ok({});
    ok({ dir: backupDir });
    ok({ dir: join(backupDir, "nightly", "deep") });
    ok({ out: join(backupDir, "x.cbobak") });
    ok({ dir: root });
    ok({ dir: join(root, "kept") });
    ok({ out: join(root, "one.cbobak") });
    ok({ out: join(root, "new", "one.cbobak") });
    expect(refusal({ out: join(root, "new", "deeper", "one.cbobak") }).message).toContain("neither it nor");
    writeFileSync(join(root, "taken.cbobak"), "x");
    expect(refusal({ out: join(root, "taken.cbobak") }).code).toBe("ERR_CONFLICT");
    // The checks create nothing.
    expect(existsSync(join(root, "kept"))).toBe(false);
    expect(existsSync(backupDir)).toBe(false);
  });
});
