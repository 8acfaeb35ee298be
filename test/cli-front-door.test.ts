// The CLI's front door, generated from the command table (src/cli/usage), so that a command or
// subcommand added later is checked without touching this file: every command and subcommand
// answers --help, -h and `cbo help …` with exit 0 and exactly its usage; an unknown flag on any of
// them is a usage error (exit 1) with the usage as its hint; --json turns any error into one JSON
// object on stdout; a daemon that does not answer is a system error (exit 2) on every command that
// talks to it. The dispatcher (main.ts) runs in this process for the exhaustive sweeps (many
// hundred runs); the real binary (a child process) for the rest.
import { createServer } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../src/cli/main.ts";
import { COMMAND_NAMES, USAGE, usageOf, type CommandUsage } from "../src/cli/usage/index.ts";
import { runCbo } from "./support/run-cbo.ts";

type Run = { code: number; stdout: string; stderr: string };

/** main() as bin/cbo.js runs it, with stdout and stderr captured. */
async function cbo(args: string[]): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const out = vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => ((stdout += String(s)), true));
  const err = vi.spyOn(process.stderr, "write").mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true));
  try {
    return { code: await main(args), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

const subsOf = (name: (typeof COMMAND_NAMES)[number]) => Object.keys((USAGE[name] as CommandUsage).subs ?? {});
/** Every command line the table knows: each command, and each of its subcommands. */
const LINES = COMMAND_NAMES.flatMap((name) => [[name], ...subsOf(name).map((sub) => [name, sub])]);

let cwd: string;
let savedEnv: NodeJS.ProcessEnv;
let deadUrl: string;
beforeAll(async () => {
  // Nothing to find by accident: an empty working directory and no CBO_* from the developer's shell.
  cwd = mkdtempSync(join(tmpdir(), "cbo-front-door-"));
  savedEnv = { ...process.env };
  for (const k of Object.keys(process.env)) if (k.startsWith("CBO_")) delete process.env[k];
  process.chdir(cwd);
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  deadUrl = `http://127.0.0.1:${(srv.address() as { port: number }).port}`;
  await new Promise<void>((r) => srv.close(() => r()));
});
afterAll(() => {
  process.env = savedEnv;
  rmSync(cwd, { recursive: true, force: true });
});

describe("help, from the command table", () => {
  it("knows every command, each with a summary and a usage that starts `usage: cbo <command>`", () => {
    expect(COMMAND_NAMES.length).toBeGreaterThanOrEqual(21);
    for (const name of COMMAND_NAMES) {
      expect(USAGE[name].summary.length, name).toBeGreaterThan(10);
      expect(usageOf(name), name).toMatch(new RegExp(`^usage: cbo ${name}( |$)`));
      for (const sub of subsOf(name)) expect(usageOf(name, sub), `${name} ${sub}`).toMatch(new RegExp(`^usage: cbo ${name} ${sub}( |$)`));
    }
  });

  it.each(LINES)("cbo %s %s: --help, -h and `cbo help` exit 0 and print its usage", async (...line: string[]) => {
    const [name, sub] = line as [(typeof COMMAND_NAMES)[number], string | undefined];
    const usage = `${usageOf(name, sub)}\n`;
    for (const args of [
      [...line, "--help"],
      [...line, "-h"],
      ["help", ...line],
      // Anywhere on the line, whatever else is there.
      [...line, "some-arg", "--json", "--help"],
    ]) {
      const r = await cbo(args);
      expect([r.code, r.stdout, r.stderr], args.join(" ")).toEqual([0, usage, ""]);
    }
  });

  it("a typo in a command or a flag names what it most likely meant, in the CLI's words", async () => {
    const command = await cbo(["statsu", "--json"]);
    expect(command.code).toBe(1);
    expect(JSON.parse(command.stdout)).toMatchObject({
      error: { code: "ERR_USAGE", message: 'Unknown command "statsu". Did you mean "status"?' },
    });
    const flag = await cbo(["status", "--jsno"]);
    expect([flag.code, flag.stderr.split("\n")[0]]).toEqual([1, "error ERR_USAGE: Unknown flag --jsno (did you mean --json?)."]);
    const own = await cbo(["release", "w", "--forec"]);
    expect(own.stderr.split("\n")[0]).toBe("error ERR_USAGE: Unknown flag --forec (did you mean --force?).");
    // A port that is not a number, in the CLI's words (not zod's "expected number, received NaN").
    const port = await cbo(["kit", "--out", "k.tar.gz", "--port", "abc"]);
    expect([port.code, port.stderr.split("\n")[0]]).toEqual([
      1,
      'error ERR_USAGE: --port must be a whole number from 1 to 65535 (got "abc").',
    ]);
    // Flags typed before the command: the line that runs, the command first and the rest as typed.
    const early = await cbo(["--data", "d", "--json", "status"]);
    expect([early.code, JSON.parse(early.stdout)]).toEqual([
      1,
      {
        error: { code: "ERR_USAGE", message: "--data is a flag; flags go after the command.", hint: "run: npx cbo status --data d --json" },
      },
    ]);
    // Nothing close: just the flag, without parseArgs' note about positionals that start with '-'.
    const far = await cbo(["status", "--zzz"]);
    expect(far.stderr.split("\n")[0]).toBe("error ERR_USAGE: Unknown flag --zzz.");
  });

  it.each(LINES)("cbo %s %s: an unknown flag is a usage error (exit 1) with the usage as its hint", async (...line: string[]) => {
    const [name] = line as [(typeof COMMAND_NAMES)[number]];
    const r = await cbo([...line, "--no-such-flag"]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^error ERR_USAGE: /);
    expect(r.stderr).toContain(`hint: usage: cbo ${name}`);
    expect(r.stdout).toBe("");
    // The same as one JSON object on stdout with --json, and nothing else anywhere.
    const json = await cbo([...line, "--no-such-flag", "--json"]);
    expect([json.code, json.stderr]).toEqual([1, ""]);
    expect(json.stdout.split("\n")).toHaveLength(2);
    expect(JSON.parse(json.stdout)).toEqual({
      error: { code: "ERR_USAGE", message: expect.any(String), hint: expect.stringMatching(/^usage: cbo /) },
    });
  });

  it("each group's subcommands in the table are exactly those its dispatcher runs", async () => {
    for (const name of COMMAND_NAMES.filter((n) => subsOf(n).length > 0 && !USAGE[n].synopsis)) {
      const r = await cbo([name, "no-such-subcommand"]);
      expect(r.code, name).toBe(1);
      const listed = /use one of (.*)\.$/m.exec(r.stderr)?.[1]?.split(", ");
      expect(listed?.sort(), name).toEqual(subsOf(name).sort());
    }
  });

  it("cbo help names every command; an unknown command or subcommand to help with is a usage error", async () => {
    const all = await cbo(["help"]);
    expect(all.code).toBe(0);
    for (const name of COMMAND_NAMES) expect(all.stdout).toMatch(new RegExp(`^  ${name} +\\S`, "m"));
    expect(all.stdout).toMatch(
      /^exit codes: 0 ok; 1 user error [^]*; 2 system error [^]*; 3 a release or rollback rolled back or was aborted;[^]*4 cbo diff --strict found drift/m,
    );
    expect(all.stdout).toMatch(/^token: the first of --token-file FILE, --token TOKEN .*, CBO_TOKEN_FILE, CBO_TOKEN,/m);
    // Under "commands:" every line is indented: a wrapped usage line (audit search, vault) too.
    const commands = all.stdout.split("\n\n")[2]!;
    expect(commands.startsWith("commands:\n")).toBe(true);
    for (const l of commands.split("\n").slice(1)) expect(l, l).toMatch(/^ {2}\S|^ {12}\S|^ {16}\S/);
    expect(commands).toMatch(/^ {12}cbo audit search .*\n {16}\[--limit N\] \[--before SEQ\]/m);
    expect((await cbo(["help", "nope"])).code).toBe(1);
    // A verb of a command's synopsis (cbo release pause|resume|promote|abort) is one to help with too.
    const pause = await cbo(["help", "release", "pause"]);
    expect([pause.code, pause.stderr]).toEqual([0, ""]);
    expect(pause.stdout).toContain("cbo release pause|resume|promote|abort <release id> [--reason TEXT]");
    expect((await cbo(["help", "release", "nope"])).code).toBe(1);
    const typo = await cbo(["help", "stauts"]);
    expect([typo.code, typo.stderr.split("\n")[0]]).toEqual([
      1,
      'error ERR_USAGE: No command "stauts" to help with. Did you mean "status"?',
    ]);
    const noSub = await cbo(["help", "secrets", "nope"]);
    expect([noSub.code, noSub.stderr.split("\n")[0]]).toEqual([1, 'error ERR_USAGE: cbo secrets has no subcommand "nope".']);
  });
});

describe("exit codes on every command that talks to the daemon", () => {
  // One line per command (and subcommand) that needs the daemon, with the arguments it needs.
  const DAEMON_LINES = [
    ["status"],
    ["plan", "w"],
    ["release", "w"],
    ["rollback", "w"],
    ["versions", "w"],
    ["events"],
    ["events", "--follow"],
    ["logs", "w"],
    ["logs", "w", "--follow"],
    ["secrets", "list"],
    ["secrets", "versions", "S"],
    ["secrets", "get", "S"],
    ["secrets", "deliver", "S", "--wait"],
    ["secrets", "delete", "S"],
    ["config", "diff", "w"],
    ["config", "publish", "w"],
    ["config", "history", "w"],
    ["keys", "list"],
    ["keys", "rotate", "w", "--wait"],
    ["tokens", "list"],
    ["tokens", "create", "--name", "n", "--role", "viewer"],
    ["tokens", "revoke", "id"],
    ["audit", "tail"],
    ["audit", "search"],
    ["tunnel", "status"],
    ["vault", "rotate-master-key"],
    ["backup"],
    ["kit", "--out", "k.tar.gz"],
  ];

  it.each(DAEMON_LINES)("cbo %s %s …: a daemon that does not answer exits 2 (ERR_IO), as JSON too", async (...line: string[]) => {
    const args = [...line, "--url", deadUrl];
    const r = await cbo(args);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^error ERR_IO: /);
    const json = await cbo([...args, "--json"]);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: "ERR_IO", message: expect.stringContaining(deadUrl) } });
  });
});

describe("the real binary", () => {
  it("cbo --version prints the package's version; with --json, as an object", async () => {
    const { version } = (await import("../package.json", { with: { type: "json" } })).default as { version: string };
    const r = await runCbo(["--version"], { cwd });
    expect([r.code, r.stdout, r.stderr]).toEqual([0, `cbo ${version}\n`, ""]);
    const json = await runCbo(["--version", "--json"], { cwd });
    expect(JSON.parse(json.stdout)).toEqual({ version, node: expect.stringMatching(/^24\./) });
  });

  it("cbo help release and cbo release --help print the same usage; bare cbo prints the overview and exits 1", async () => {
    const a = await runCbo(["help", "release"], { cwd });
    const b = await runCbo(["release", "--help"], { cwd });
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(a.stdout).toBe(`${usageOf("release")}\n`);
    expect(b.stdout).toBe(a.stdout);
    expect(a.stdout).toContain("exit 0 succeeded, 3 rolled back or aborted, 2 failed");
    const bare = await runCbo([], { cwd });
    expect(bare.code).toBe(1);
    expect(bare.stdout).toMatch(/^usage: npx cbo <command> \[flags\]/m);
  });

  it("--json errors: one JSON object on stdout and nothing else, with the same exit codes", async () => {
    const usage = await runCbo(["release", "--json"], { cwd });
    expect([usage.code, usage.stderr]).toEqual([1, ""]);
    expect(usage.stdout.endsWith("\n") && usage.stdout.trimEnd().split("\n")).toHaveLength(1);
    expect(JSON.parse(usage.stdout)).toEqual({
      error: { code: "ERR_USAGE", message: "Missing <worker>.", hint: usageOf("release") },
    });
    const down = await runCbo(["status", "--json", "--url", deadUrl], { cwd });
    expect([down.code, down.stderr]).toEqual([2, ""]);
    expect(JSON.parse(down.stdout)).toEqual({
      error: { code: "ERR_IO", message: `The daemon at ${deadUrl} is not answering.`, hint: "start it with `npx cbo up` or `npm start`" },
    });
    // An error from a tool on the files, with details.
    const archive = await runCbo(["restore", join(cwd, "no-such.cboarchive"), "--data", join(cwd, "r"), "--json"], { cwd });
    expect(archive.code).toBe(1);
    expect(archive.stderr).toBe("");
    expect(JSON.parse(archive.stdout)).toMatchObject({ error: { code: expect.stringMatching(/^ERR_/), message: expect.any(String) } });
  });

  it("--token warns on stderr that it is visible in ps; --token-file does not, and refuses a file others can read", async () => {
    const withFlag = await runCbo(["status", "--url", deadUrl, "--token", "cbo_admin_onthecommandline"], { cwd });
    expect(withFlag.code).toBe(2);
    expect(withFlag.stderr).toMatch(/^cbo: warning: --token puts the token on the command line, where other users can read it \(`ps`\)/);
    expect(withFlag.stderr).not.toContain("onthecommandline");
    const { writeFileSync } = await import("node:fs");
    const file = join(cwd, "token");
    writeFileSync(file, "cbo_admin_fromafile\n", { mode: 0o600 });
    const fromFile = await runCbo(["status", "--url", deadUrl, "--token-file", file], { cwd });
    expect(fromFile.code).toBe(2);
    expect(fromFile.stderr).not.toMatch(/warning/);
    const open = join(cwd, "open-token");
    writeFileSync(open, "cbo_admin_fromopenfile\n", { mode: 0o644 });
    const refused = await runCbo(["status", "--url", deadUrl], { cwd, env: { CBO_TOKEN_FILE: open } });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /^error ERR_VALIDATION: The token file .* \(CBO_TOKEN_FILE\) can be read by group or others \(mode 0644\)/,
    );
    expect(refused.stderr).toContain(`hint: chmod 600 ${open}`);
    expect(refused.stderr).not.toContain("fromopenfile");
  });
});
