import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CboError } from "../kit/errors.ts";
import { discoverDaemon, resolveToken, TOKEN_FLAG_WARNING } from "./discover.ts";

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
    writeFileSync(join(dir, "admin-token"), "file-token\n", { mode: 0o600 });
    expect(discoverDaemon({ data: dir }, {})).toEqual({
      url: "http://127.0.0.1:1111",
      token: "file-token",
      tokenSource: "admin-token",
      dataDir: dir,
    });
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
    writeFileSync(join(dir, "admin-token"), "file-token\n", { mode: 0o600 });
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
  it("takes the token from --token-file, --token, CBO_TOKEN_FILE, CBO_TOKEN, <data>/admin-token, in that order", () => {
    const file = (name: string, token: string, mode = 0o600) => {
      const f = join(dir, name);
      writeFileSync(f, `${token}\n`, { mode });
      return f;
    };
    const admin = file("admin-token", "admin-file-token");
    const flagFile = file("flag-token", "flag-file-token");
    const envFile = file("env-token", "env-file-token");
    const warned: string[] = [];
    const warn = (l: string) => warned.push(l);
    const all = { "token-file": flagFile, token: "flag-token" };
    const env = { CBO_TOKEN_FILE: envFile, CBO_TOKEN: "env-token" };
    expect(resolveToken(all, env, admin, warn)).toEqual({ token: "flag-file-token", source: "--token-file" });
    expect(warned).toEqual([]);
    expect(resolveToken({ token: "flag-token" }, env, admin, warn)).toEqual({ token: "flag-token", source: "--token" });
    // --token is visible in `ps`: said on stderr, once per process.
    expect(warned).toEqual([TOKEN_FLAG_WARNING]);
    expect(TOKEN_FLAG_WARNING).toMatch(/--token-file FILE or CBO_TOKEN_FILE/);
    resolveToken({ token: "flag-token" }, env, admin, warn);
    expect(warned).toHaveLength(1);
    expect(resolveToken({}, env, admin, warn)).toEqual({ token: "env-file-token", source: "CBO_TOKEN_FILE" });
    expect(resolveToken({}, { CBO_TOKEN: "env-token" }, admin, warn)).toEqual({ token: "env-token", source: "CBO_TOKEN" });
    expect(resolveToken({}, {}, admin, warn)).toEqual({ token: "admin-file-token", source: "admin-token" });
    expect(resolveToken({}, {}, join(dir, "no-such-file"), warn)).toBeUndefined();
  });
  it("refuses a token file that group or others can read, like a key file, without the token in the error", () => {
    const open = join(dir, "open-token");
    writeFileSync(open, "cbo_admin_secretvalue\n", { mode: 0o640 });
    for (const [flags, env] of [
      [{ "token-file": open }, {}],
      [{}, { CBO_TOKEN_FILE: open }],
    ] as const) {
      try {
        resolveToken(flags, env, undefined);
        expect.unreachable();
      } catch (e) {
        const err = e as CboError;
        expect([err.code, err.hint]).toEqual(["ERR_VALIDATION", `chmod 600 ${open}`]);
        expect(err.message).toMatch(/can be read by group or others \(mode 0640\)/);
        expect(err.message).not.toContain("secretvalue");
      }
    }
    // The daemon's own admin-token file is held to the same rule.
    expect(codeOf(() => resolveToken({}, {}, open))).toBe("ERR_VALIDATION");
    expect(codeOf(() => resolveToken({ "token-file": join(dir, "missing") }, {}, undefined))).toBe("ERR_NOT_FOUND");
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
  it("refuses a URL with a user or password without printing it back (every later error would name the URL)", () => {
    for (const url of ["http://ops:hunter2hunter2@127.0.0.1:1", "https://ops@127.0.0.1:1"]) {
      let e: CboError | undefined;
      try {
        discoverDaemon({ data: dir, url }, {});
      } catch (x) {
        e = x as CboError;
      }
      expect([url, e?.code, e?.message]).toEqual([
        url,
        "ERR_USAGE",
        "--url holds a user name or password (user:pass@host); the daemon takes a token instead.",
      ]);
      expect(e?.hint).toBe("give the URL without them, e.g. " + url.replace(/\/\/.*@/, "//") + ", and the token with --token-file FILE");
    }
  });
});
