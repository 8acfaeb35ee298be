// `cbo secrets|tokens|audit tail|search` against fakeSecurityDaemonForCliTests, a test double of the
// daemon's REST routes (real HTTP on 127.0.0.1), run in process with planted stdin: where a value
// comes from, that it reaches the API byte for byte, that only `secrets get` prints it (and
// exactly it), error codes, hints and exit codes, --json. The real daemon: cli-secrets-e2e.test.ts.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditCommand } from "../src/cli/offline/audit-command.ts";
import { secretsCommand } from "../src/cli/commands/secrets-command.ts";
import { tokensCommand } from "../src/cli/commands/tokens-command.ts";
import { runInProcess, type InProcessRun } from "./support/cli-in-process.ts";
import {
  FAKE_ADMIN,
  FAKE_DEPLOYER,
  FAKE_VIEWER,
  fakeSecurityDaemonForCliTests,
  type FakeSecurityDaemon,
} from "./support/fake-security-daemon-for-cli-tests.ts";

// Planted values: every one must reach the API exactly and show up in no output but `get`'s stdout.
const PLANTED = {
  line: "pl4nted-line-value-7f3a9c",
  multi: "pl4nted-multi\nsecond line\n\n",
  file: "-----BEGIN PL4NTED KEY-----\nQUJDREVGRzEyMzQ1Njc4OQ==\n-----END PL4NTED KEY-----\n",
  binary: Buffer.from([0x00, 0xff, 0xfe, 0x50, 0x4c, 0x34, 0x0a, 0x80, 0xc3]),
  argv: "pl4nted-typed-on-the-command-line",
};
const NEEDLES = [
  PLANTED.line,
  "pl4nted-multi",
  "PL4NTED KEY",
  "QUJDREVGRzEyMzQ1Njc4OQ",
  PLANTED.argv,
  PLANTED.binary.toString("base64"),
  PLANTED.binary.toString("latin1"),
];

let daemon: FakeSecurityDaemon;
let dir: string;
const scanned: string[] = [];

beforeAll(async () => {
  daemon = await fakeSecurityDaemonForCliTests();
  dir = mkdtempSync(join(tmpdir(), "cbo-cli-secrets-"));
});
afterAll(async () => {
  await daemon?.close();
  rmSync(dir, { recursive: true, force: true });
});

type Cmd = typeof secretsCommand;
/** Runs a command as `token`; everything it prints is kept for the leak scan unless it is get's stdout. */
async function cbo(
  cmd: Cmd,
  args: string[],
  opts: { token?: string; stdin?: string | Uint8Array; stdinIsTTY?: boolean; valueOut?: boolean } = {},
): Promise<InProcessRun> {
  const r = await runInProcess(cmd, [...args, "--url", daemon.url, "--token", opts.token ?? FAKE_ADMIN, "--data", dir], opts);
  scanned.push(r.stderr);
  if (!opts.valueOut) scanned.push(r.stdout.toString("latin1"), r.out);
  return r;
}
const lastPut = () =>
  daemon.requests.filter((q) => q.method === "PUT").at(-1)!.body as {
    value: string;
    encoding: string;
    cas?: number;
    mode?: string;
    jurisdictions?: string[];
  };

describe("cbo secrets set/get: the value only from stdin or a file, back byte for byte", () => {
  it("stdin: one trailing newline (what echo adds) is dropped, nothing else; get prints exactly the value", async () => {
    const set = await cbo(secretsCommand, ["set", "API_KEY", "--mode", "binding", "--jurisdiction", "eu", "--jurisdiction", "ch,us"], {
      token: FAKE_DEPLOYER,
      stdin: PLANTED.line + "\n",
    });
    expect([set.code, set.stderr, set.out]).toEqual([0, "", "secret API_KEY is at version 1\n"]);
    expect(lastPut()).toEqual({ value: PLANTED.line, encoding: "utf8", mode: "binding", jurisdictions: ["eu", "ch", "us"] });
    const get = await cbo(secretsCommand, ["get", "API_KEY"], { valueOut: true });
    expect([get.code, get.stderr]).toEqual([0, ""]);
    expect(get.out).toBe(PLANTED.line);

    const multi = await cbo(secretsCommand, ["set", "MULTI"], { stdin: PLANTED.multi + "\n" });
    expect(multi.code).toBe(0);
    expect(lastPut().value).toBe(PLANTED.multi);
    expect((await cbo(secretsCommand, ["get", "MULTI"], { valueOut: true })).out).toBe(PLANTED.multi);
  });

  it("--from-file: byte for byte (its final newline kept); bytes that are not UTF-8 travel as base64 and come back the same", async () => {
    writeFileSync(join(dir, "key.pem"), PLANTED.file);
    writeFileSync(join(dir, "blob.bin"), PLANTED.binary);
    expect((await cbo(secretsCommand, ["set", "PEM", "--from-file", join(dir, "key.pem")])).code).toBe(0);
    expect(lastPut()).toEqual({ value: PLANTED.file, encoding: "utf8" });
    expect((await cbo(secretsCommand, ["get", "PEM"], { valueOut: true })).out).toBe(PLANTED.file);

    expect((await cbo(secretsCommand, ["set", "BLOB", "--from-file", join(dir, "blob.bin")])).code).toBe(0);
    expect(lastPut()).toEqual({ value: PLANTED.binary.toString("base64"), encoding: "base64" });
    const get = await cbo(secretsCommand, ["get", "BLOB"], { valueOut: true });
    expect(get.stdout.equals(PLANTED.binary)).toBe(true);
    // Binary on stdin too (the newline inside the bytes is not the last byte: kept).
    expect((await cbo(secretsCommand, ["set", "BLOB2"], { stdin: PLANTED.binary })).code).toBe(0);
    expect(Buffer.from(lastPut().value, "base64").equals(PLANTED.binary)).toBe(true);
  });

  it("refuses a value on the command line, in any spelling, without repeating it and without calling the daemon", async () => {
    const before = daemon.requests.length;
    for (const args of [
      ["set", "X", PLANTED.argv],
      ["set", "X", "--value", PLANTED.argv],
      ["set", "X", `--value=${PLANTED.argv}`],
      ["set", "X", "--secret", PLANTED.argv],
      ["set", "X", "--", PLANTED.argv],
      ["get", "X", PLANTED.argv],
      [PLANTED.argv],
    ]) {
      const r = await cbo(secretsCommand, args, { stdin: "from-stdin" });
      expect(r.code, args.join(" ")).toBe(1);
      expect(r.stderr).toMatch(/^error ERR_USAGE: /);
      expect(r.stderr + r.out).not.toContain(PLANTED.argv);
    }
    const typed = await cbo(secretsCommand, ["set", "X", PLANTED.argv]);
    expect(typed.stderr).toMatch(/hint: the value is never an argument: pipe the value in/);
    expect(daemon.requests.length).toBe(before);
    expect(daemon.secrets.has("X")).toBe(false);
  });

  it("refuses a terminal on stdin, an empty value and one that is too large", async () => {
    const tty = await cbo(secretsCommand, ["set", "T"], { stdinIsTTY: true });
    expect([tty.code, tty.stderr.split("\n")[0]]).toEqual([
      1,
      "error ERR_USAGE: No value: stdin is a terminal, and a value is never read from the command line.",
    ]);
    for (const stdin of ["", "\n"]) {
      const empty = await cbo(secretsCommand, ["set", "E"], { stdin });
      expect([empty.code, empty.stderr.split("\n")[0]]).toEqual([1, "error ERR_VALIDATION: The value is empty."]);
    }
    const big = await cbo(secretsCommand, ["set", "BIG"], { stdin: "x".repeat(64 * 1024 + 2) });
    expect(big.stderr).toMatch(/^error ERR_VALIDATION: The value is larger than 65536 bytes/);
    const missing = await cbo(secretsCommand, ["set", "M", "--from-file", join(dir, "nope")]);
    expect([missing.code, missing.stderr.split("\n")[0]]).toEqual([1, `error ERR_NOT_FOUND: ${join(dir, "nope")} does not exist.`]);
    expect(["T", "E", "BIG", "M"].some((n) => daemon.secrets.has(n))).toBe(false);
  });

  it("check-and-set: a stale --cas is ERR_CONFLICT (exit 1) with the current version in the hint; the right one writes", async () => {
    const stale = await cbo(secretsCommand, ["set", "API_KEY", "--cas", "0"], { stdin: "pl4nted-cas-loser" });
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/^error ERR_CONFLICT: secret API_KEY is at version 1, not 0\nhint: it is at version 1 now: .*--cas 1\n$/);
    const ok = await cbo(secretsCommand, ["set", "API_KEY", "--cas", "1", "--json"], { stdin: "pl4nted-cas-winner" });
    expect([ok.code, JSON.parse(ok.out)]).toEqual([0, { name: "API_KEY", version: 2 }]);
    expect(lastPut().cas).toBe(1);
    expect((await cbo(secretsCommand, ["get", "API_KEY", "--version", "1"], { valueOut: true })).out).toBe(PLANTED.line);
  });

  it("get needs admin: a deployer gets ERR_FORBIDDEN (exit 1) with a hint; an unknown secret is ERR_NOT_FOUND", async () => {
    const r = await cbo(secretsCommand, ["get", "API_KEY"], { token: FAKE_DEPLOYER });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error ERR_FORBIDDEN: .*\nhint: reading a value needs an admin token/);
    expect(r.out).toBe("");
    const none = await cbo(secretsCommand, ["get", "NOPE"]);
    expect([none.code, none.stderr.split("\n")[0]]).toEqual([1, "error ERR_NOT_FOUND: secret NOPE does not exist"]);
  });

  it("get --json is the one other way to the value", async () => {
    const r = await cbo(secretsCommand, ["get", "PEM", "--json"], { valueOut: true });
    expect(JSON.parse(r.out)).toEqual({ name: "PEM", version: 1, value: PLANTED.file, encoding: "utf8" });
  });
});

describe("cbo secrets list/versions/rollback/delete/undelete/destroy", () => {
  it("list and versions show metadata only (text and --json), for a viewer too", async () => {
    const list = await cbo(secretsCommand, ["list"], { token: FAKE_VIEWER });
    expect(list.code).toBe(0);
    expect(list.out).toMatch(/^NAME\s+VERSION\s+MODE\s+JURISDICTIONS\s+STATE\s+UPDATED$/m);
    expect(list.out).toMatch(/^API_KEY\s+2\s+binding\s+eu,ch,us\s+active\s+\d+ s ago$/m);
    const json = JSON.parse((await cbo(secretsCommand, ["list", "--json"], { token: FAKE_VIEWER })).out) as Array<Record<string, unknown>>;
    expect(json.find((s) => s.name === "API_KEY")).toMatchObject({ version: 2, mode: "binding", deleted: false });
    const versions = await cbo(secretsCommand, ["versions", "API_KEY"], { token: FAKE_VIEWER });
    expect(versions.out).toMatch(/^VERSION\s+CREATED\s+BY\s+STATE\n1\s+\S+\s+fake deployer\s+-\n2\s+\S+\s+fake admin\s+current$/m);
  });

  it("rollback writes a new version holding the old value", async () => {
    const r = await cbo(secretsCommand, ["rollback", "API_KEY", "--to", "1", "--cas", "2"], { token: FAKE_DEPLOYER });
    expect([r.code, r.out]).toEqual([0, "secret API_KEY is at version 3, holding the value of version 1\n"]);
    expect(daemon.requests.at(-1)).toMatchObject({ method: "POST", path: "/v1/secrets/API_KEY/rollback", body: { to: 1, cas: 2 } });
    expect((await cbo(secretsCommand, ["get", "API_KEY"], { valueOut: true })).out).toBe(PLANTED.line);
    const missingTo = await cbo(secretsCommand, ["rollback", "API_KEY"]);
    expect(missingTo.stderr).toMatch(/^error ERR_USAGE: Missing --to N/);
  });

  it("delete is soft and undelete (admin) brings the secret back; destroy needs --yes", async () => {
    const del = await cbo(secretsCommand, ["delete", "MULTI", "--cas", "1"], { token: FAKE_DEPLOYER });
    expect([del.code, del.out]).toEqual([0, "secret MULTI deleted (`npx cbo secrets undelete MULTI` brings it back)\n"]);
    expect(daemon.requests.at(-1)).toMatchObject({ method: "DELETE", path: "/v1/secrets/MULTI?cas=1" });
    expect((await cbo(secretsCommand, ["get", "MULTI"], { valueOut: true })).code).toBe(1);
    const denied = await cbo(secretsCommand, ["undelete", "MULTI"], { token: FAKE_DEPLOYER });
    expect(denied.stderr).toMatch(/^error ERR_FORBIDDEN: .*\nhint: this needs an admin token/);
    expect((await cbo(secretsCommand, ["undelete", "MULTI"])).out).toBe("secret MULTI undeleted\n");
    expect((await cbo(secretsCommand, ["get", "MULTI"], { valueOut: true })).out).toBe(PLANTED.multi);

    const noYes = await cbo(secretsCommand, ["destroy", "BLOB", "--version", "1"]);
    expect([noYes.code, noYes.stderr.split("\n")[0]]).toEqual([
      1,
      "error ERR_USAGE: Destroying version 1 of secret BLOB cannot be undone.",
    ]);
    expect(daemon.secrets.get("BLOB")!.versions[0]!.destroyed).toBe(false);
    const d = await cbo(secretsCommand, ["destroy", "BLOB", "--version", "1", "--yes", "--json"]);
    expect(JSON.parse(d.out)).toEqual({ name: "BLOB", destroyed: [1] });
    expect(daemon.requests.at(-1)).toMatchObject({ path: "/v1/secrets/BLOB/destroy", body: { versions: [1] } });
  });

  it("usage: no subcommand prints usage (exit 1), --help exit 0, an unknown one is not repeated", async () => {
    const none = await runInProcess(secretsCommand, []);
    expect(none.code).toBe(1);
    expect(none.out).toMatch(/^usage: cbo secrets <command>/);
    expect((await runInProcess(secretsCommand, ["--help"])).code).toBe(0);
    const unknown = await runInProcess(secretsCommand, ["sett", "X"]);
    expect(unknown.stderr).toMatch(
      /^error ERR_USAGE: Unknown secrets command: use one of set, get, list, versions, rollback, delete, undelete, destroy, deliver\.\n/,
    );
  });
});

describe("cbo tokens", () => {
  let created: { token: string; id: string };

  it("create prints the token alone on stdout, once; what it is goes to stderr; --expires becomes an ISO time", async () => {
    const r = await cbo(tokensCommand, ["create", "--name", "ci", "--role", "deployer", "--tenant", "acme", "--expires", "30d"]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^cbo_deployer_\S+\n$/);
    const token = r.out.trim();
    const id = /created token (\S+) "ci"/.exec(r.stderr)![1]!;
    expect(r.stderr).toMatch(
      /^created token \S+ "ci" \(role deployer, tenant acme, expires \d{4}-.*Z\); it is shown only this once: store it now\n$/,
    );
    const body = daemon.requests.at(-1)!.body as { expiresAt: string };
    expect(Date.parse(body.expiresAt) - Date.now()).toBeGreaterThan(29.9 * 86_400_000);
    created = { token, id };
    // The new token works (deployer: it can list secrets but not read a value).
    expect((await cbo(secretsCommand, ["list"], { token })).code).toBe(0);
  });

  it("list never shows a token; revoke stops it at once", async () => {
    const list = await cbo(tokensCommand, ["list"]);
    expect(list.out).toMatch(/^ID\s+NAME\s+ROLE\s+TENANT\s+CREATED\s+EXPIRES\s+STATE$/m);
    expect(list.out).toMatch(new RegExp(`^${created.id}\\s+ci\\s+deployer\\s+acme\\s+\\S+\\s+\\S+\\s+active$`, "m"));
    const json = await cbo(tokensCommand, ["list", "--json"]);
    for (const out of [list.out, json.out]) for (const t of daemon.tokens) expect(out).not.toContain(t.token);
    const revoke = await cbo(tokensCommand, ["revoke", created.id]);
    expect([revoke.code, revoke.out]).toEqual([0, `token ${created.id} revoked\n`]);
    const after = await cbo(secretsCommand, ["list"], { token: created.token });
    expect([after.code, after.stderr.split("\n")[0]]).toEqual([1, "error ERR_UNAUTHORIZED: Missing or unknown bearer token."]);
    expect((await cbo(tokensCommand, ["list"])).out).toMatch(new RegExp(`^${created.id}\\s.*revoked$`, "m"));
  });

  it("refuses a bad role or a past expiry before calling the daemon; a viewer cannot manage tokens", async () => {
    const before = daemon.requests.length;
    const role = await cbo(tokensCommand, ["create", "--name", "x", "--role", "root"]);
    expect(role.stderr).toMatch(/^error ERR_USAGE: --role is one of admin, deployer, viewer, agent, metrics\./);
    const past = await cbo(tokensCommand, ["create", "--name", "x", "--role", "viewer", "--expires", "2001-01-01"]);
    expect(past.stderr).toMatch(/^error ERR_USAGE: --expires 2001-01-01 is in the past\./);
    expect(daemon.requests.length).toBe(before);
    const viewer = await cbo(tokensCommand, ["list"], { token: FAKE_VIEWER });
    expect(viewer.stderr).toMatch(/^error ERR_FORBIDDEN: .*\nhint: managing tokens needs an admin token/);
  });
});

describe("cbo audit tail/search", () => {
  it("tail prints the newest entries oldest first", async () => {
    const r = await cbo(auditCommand, ["tail", "-n", "3"]);
    expect(r.code).toBe(0);
    expect(daemon.requests.at(-1)!.path).toBe("/v1/audit?limit=3");
    const seqs = r.out
      .trimEnd()
      .split("\n")
      .map((l) => Number(/^#(\d+)/.exec(l)![1]));
    const last = daemon.audit.length;
    expect(seqs).toEqual([last - 2, last - 1, last]);
    const json = JSON.parse((await cbo(auditCommand, ["tail", "--json"])).out) as Array<{ seq: number }>;
    expect(json.map((e) => e.seq)).toEqual([...json.map((e) => e.seq)].sort((a, b) => a - b));
  });

  it("search passes its filters, turns --since 1h into a time, and says when nothing matches", async () => {
    const r = await cbo(auditCommand, ["search", "--action", "secret.*", "--target", "secret:API_KEY", "--since", "1h", "--limit", "50"]);
    expect(r.code).toBe(0);
    const path = new URL(daemon.requests.at(-1)!.path, "http://x");
    expect(Object.fromEntries(path.searchParams)).toMatchObject({ action: "secret.*", target: "secret:API_KEY", limit: "50" });
    expect(Math.abs(Date.parse(path.searchParams.get("since")!) - (Date.now() - 3_600_000))).toBeLessThan(60_000);
    expect(r.out).toMatch(/^#\d+\s+\S+\s+token:fake admin\s+secret\.read\s+secret:API_KEY\s+ok\s+\{"version":1\}$/m);
    expect(r.out).not.toMatch(/token\.(create|revoke)/);
    expect((await cbo(auditCommand, ["search", "--actor", "nobody"])).out).toBe("no matching entries\n");
    const bad = await cbo(auditCommand, ["search", "--since", "yesterday"]);
    expect(bad.stderr).toMatch(/^error ERR_USAGE: --since takes a duration/);
  });
});

describe("failures outside the CLI", () => {
  it("a daemon that is down: ERR_IO, exit 2, no stack", async () => {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    const port = (srv.address() as { port: number }).port;
    await new Promise<void>((r) => srv.close(() => r()));
    const r = await runInProcess(secretsCommand, ["list", "--url", `http://127.0.0.1:${port}`, "--token", FAKE_ADMIN]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error ERR_IO: The daemon at http:\/\/127\.0\.0\.1:\d+ is not answering\.\nhint: /);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe("leaks", () => {
  it("no planted value appears in any output but get's stdout", () => {
    expect(scanned.length).toBeGreaterThan(50);
    const all = scanned.join("\n");
    for (const needle of NEEDLES) expect(all.includes(needle), needle).toBe(false);
    // Audit entries the CLI printed hold no values either (the double records none; the real daemon keyed hashes).
  });
});
