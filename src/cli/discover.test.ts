import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CboError } from "../kit/errors.ts";
import { discoverDaemon } from "./discover.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "cbo-discover-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return (e as CboError).code;
  }
  return "no error";
};

describe("finding the daemon and its token", () => {
  it("prefers the flag, then the environment, then the data directory", () => {
    writeFileSync(join(dir, "daemon.json"), JSON.stringify({ url: "http://127.0.0.1:1111", pid: 1 }));
    writeFileSync(join(dir, "admin-token"), "file-token\n");
    expect(discoverDaemon({ data: dir }, {})).toEqual({ url: "http://127.0.0.1:1111", token: "file-token", dataDir: dir });
    expect(discoverDaemon({ data: dir }, { CBO_URL: "http://127.0.0.1:2222/", CBO_TOKEN: "env-token" })).toMatchObject({
      url: "http://127.0.0.1:2222",
      token: "env-token",
    });
    expect(
      discoverDaemon({ data: dir, url: "http://127.0.0.1:3333", token: "flag-token" }, { CBO_URL: "http://x:1", CBO_TOKEN: "env-token" }),
    ).toMatchObject({
      url: "http://127.0.0.1:3333",
      token: "flag-token",
    });
  });
  it("never sends the data directory's admin token to another daemon", () => {
    writeFileSync(join(dir, "daemon.json"), JSON.stringify({ url: "http://127.0.0.1:1111", pid: 1 }));
    writeFileSync(join(dir, "admin-token"), "file-token\n");
    expect(discoverDaemon({ data: dir, url: "http://elsewhere.example:1111" }, {}).token).toBeUndefined();
    expect(discoverDaemon({ data: dir }, { CBO_URL: "http://127.0.0.1:9999" }).token).toBeUndefined();
    // The same daemon named explicitly still gets it.
    expect(discoverDaemon({ data: dir, url: "http://127.0.0.1:1111/" }, {}).token).toBe("file-token");
    // An explicit URL does not care about a broken daemon file.
    writeFileSync(join(dir, "daemon.json"), "{broken");
    expect(discoverDaemon({ data: dir, url: "http://127.0.0.1:1111", token: "t" }, {})).toMatchObject({
      url: "http://127.0.0.1:1111",
      token: "t",
    });
  });
  it("has no token when none is given anywhere (the daemon then answers 401)", () => {
    expect(discoverDaemon({ data: dir, url: "http://127.0.0.1:1" }, {}).token).toBeUndefined();
  });
  it("reports a missing daemon as a system error naming the file", () => {
    expect(codeOf(() => discoverDaemon({ data: dir }, {}))).toBe("ERR_IO");
    try {
      discoverDaemon({ data: dir }, {});
    } catch (e) {
      expect((e as CboError).message).toContain(join(dir, "daemon.json"));
      expect((e as CboError).hint).toMatch(/cbo up/);
    }
    writeFileSync(join(dir, "daemon.json"), "{not json");
    expect(codeOf(() => discoverDaemon({ data: dir }, {}))).toBe("ERR_IO");
  });
  it("refuses a URL that is not http(s) as a usage error", () => {
    expect(codeOf(() => discoverDaemon({ data: dir, url: "ftp://x" }, {}))).toBe("ERR_USAGE");
    expect(codeOf(() => discoverDaemon({ data: dir, url: "not a url" }, {}))).toBe("ERR_USAGE");
    expect(codeOf(() => discoverDaemon({ data: dir }, { CBO_URL: "nope" }))).toBe("ERR_USAGE");
  });
});
