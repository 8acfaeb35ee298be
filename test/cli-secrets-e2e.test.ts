// `cbo secrets|tokens|audit` end to end: the real binary as a child process against the real daemon
// (startDaemon: vault under a generated master key file, hash-chained audit log, signed checkpoints
// appended to <data>/audit-checkpoints.jsonl), found through <data>/daemon.json and admin-token as
// a user's CLI finds it. Five planted values go in through stdin and files; only `secrets get`
// brings them back, byte for byte; then every other output of the CLI, the daemon's log, the
// checkpoint file and the SQLite files are searched for them. `cbo audit verify` checks the same
// log offline, while the daemon runs and after it stopped.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDaemon, type Daemon } from "../src/daemon.ts";
import { generateKeyFile } from "../src/vault/index.ts";
import { CBO_BIN, cboEnv, runCbo, type CboRun } from "./support/run-cbo.ts";
import { UNREACHABLE_EDGE } from "./support/daemon-rig.ts";

const PLANTED = {
  A1: "pl4nted-A1-4c1e2d9b7f",
  A2: "pl4nted-A2-e8b03f51aa",
  B: "-----BEGIN PL4NTED B-----\nYjJiMmIyYjJiMmIy\n-----END PL4NTED B-----\n",
  C: Buffer.from([0x9f, 0x00, 0xfe, 0x70, 0x6c, 0x34, 0x6e, 0x74, 0x65, 0x64, 0x43, 0x0a, 0xc0]),
  D: "pl4nted-D-viewer-must-not-see",
  E: "pl4nted-E-through-a-pipe\twith a tab",
};
const NEEDLES: Buffer[] = [PLANTED.A1, PLANTED.A2, "PL4NTED B", "YjJiMmIyYjJiMmIy", PLANTED.D, PLANTED.E].map((s) => Buffer.from(s));
NEEDLES.push(PLANTED.C, Buffer.from(PLANTED.C.toString("base64")));

let dir: string;
let data: string;
let daemon: Daemon | undefined;
const daemonLog: string[] = [];
const outputs: Buffer[] = [];

/** The CLI as a user runs it: through --data; every output kept for the leak scan, unless it is a value. */
async function cbo(args: string[], opts: { stdin?: string; env?: Record<string, string>; valueOut?: boolean } = {}): Promise<CboRun> {
  const r = await runCbo([...args, "--data", data], { cwd: dir, timeoutMs: 30_000, ...(opts.env ? { env: opts.env } : {}) });
  outputs.push(Buffer.from(r.stderr));
  if (!opts.valueOut) outputs.push(Buffer.from(r.stdout));
  return r;
}
/** A value in a 0600 file, for --from-file. */
function valueFile(name: string, bytes: string | Buffer): string {
  const file = join(dir, "values", name);
  writeFileSync(file, bytes, { mode: 0o600 });
  return file;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "cbo-cli-secrets-e2e-"));
  data = join(dir, "data");
  mkdirSync(join(dir, "values"));
  writeFileSync(join(dir, "orchestrator.yaml"), "version: 1\ntargets:\n  - { name: eu, api: local }\nworkers: []\n");
  generateKeyFile(join(dir, "master.key"));
  daemon = await startDaemon({
    dataDir: data,
    configFile: join(dir, "orchestrator.yaml"),
    // No worker is declared, so the edge is never called.
    edge: UNREACHABLE_EDGE,
    masterKeyFile: join(dir, "master.key"),
    env: {},
    monitorIntervalMs: 60_000,
    auditCheckpointEvery: { entries: 5, ms: 60_000 },
    log: (line) => daemonLog.push(line),
  });
});
afterAll(async () => {
  await daemon?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("cbo secrets, tokens and audit against the real daemon", () => {
  it("set from a pipe: the binary reads stdin to the end and drops only echo's newline", async () => {
    const child = spawn(process.execPath, [CBO_BIN, "secrets", "set", "E", "--data", data], {
      cwd: dir,
      env: cboEnv(),
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (out += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (err += s));
    child.stdin.end(PLANTED.E + "\n");
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    outputs.push(Buffer.from(out), Buffer.from(err));
    expect([code, err, out]).toEqual([0, "", "secret E is at version 1\n"]);
    expect((await cbo(["secrets", "get", "E"], { valueOut: true })).stdout).toBe(PLANTED.E);
    // runCbo's children have no stdin (/dev/null): an empty value, refused.
    const none = await cbo(["secrets", "set", "F"]);
    expect([none.code, none.stderr.split("\n")[0]]).toEqual([1, "error ERR_VALIDATION: The value is empty."]);
  });

  it("set from files, with check-and-set; a value typed as an argument is refused", async () => {
    const a1 = await cbo(["secrets", "set", "A", "--from-file", valueFile("a1", PLANTED.A1), "--cas", "0"]);
    expect([a1.code, a1.stderr, a1.stdout]).toEqual([0, "", "secret A is at version 1\n"]);
    const a2 = await cbo([
      "secrets",
      "set",
      "A",
      "--from-file",
      valueFile("a2", PLANTED.A2),
      "--cas",
      "1",
      "--mode",
      "binding",
      "--jurisdiction",
      "eu",
    ]);
    // The target is named eu but has no `jurisdiction:`: written as asked, with a warning on stderr.
    expect([a2.code, a2.stderr, a2.stdout]).toEqual([
      0,
      'warning: no target in orchestrator.yaml has jurisdiction "eu" (no target has a jurisdiction), so A reaches no target through it\n',
      "secret A is at version 2\n",
    ]);
    expect((await cbo(["secrets", "set", "B", "--from-file", valueFile("b", PLANTED.B)])).code).toBe(0);
    expect((await cbo(["secrets", "set", "C", "--from-file", valueFile("c", PLANTED.C)])).code).toBe(0);
    expect((await cbo(["secrets", "set", "D", "--from-file", valueFile("d", PLANTED.D)])).code).toBe(0);
    const stale = await cbo(["secrets", "set", "A", "--from-file", valueFile("a3", "pl4nted-loser"), "--cas", "1"]);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(
      /^error ERR_CONFLICT: secret A is at version 2, not 1: it changed since you read it\nhint: it is at version 2 now: .*--cas 2\n$/,
    );
    const typed = await cbo(["secrets", "set", "A", "pl4nted-typed"]);
    expect([typed.code, typed.stderr.split("\n")[0]]).toEqual([
      1,
      "error ERR_USAGE: Unexpected second argument: this command takes <name>.",
    ]);
  });

  it("get prints exactly the stored bytes (text, binary, an earlier version)", async () => {
    expect((await cbo(["secrets", "get", "A"], { valueOut: true })).stdout).toBe(PLANTED.A2);
    expect((await cbo(["secrets", "get", "A", "--version", "1"], { valueOut: true })).stdout).toBe(PLANTED.A1);
    expect((await cbo(["secrets", "get", "B"], { valueOut: true })).stdout).toBe(PLANTED.B);
    const c = await cbo(["secrets", "get", "C", "--json"], { valueOut: true });
    expect(JSON.parse(c.stdout)).toMatchObject({ name: "C", version: 1, encoding: "base64" });
    expect(Buffer.from(JSON.parse(c.stdout).value, "base64").equals(PLANTED.C)).toBe(true);
  });

  it("list and versions show metadata only", async () => {
    const list = await cbo(["secrets", "list"]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^A\s+2\s+binding\s+eu\s+active\s+\d+ s ago$/m);
    expect(list.stdout).toMatch(/^D\s+1\s+relay\s+-\s+active\s/m);
    expect(list.stdout).not.toMatch(/__orchestrator/);
    const versions = JSON.parse((await cbo(["secrets", "versions", "A", "--json"])).stdout) as Array<{
      version: number;
      createdBy: string | null;
    }>;
    expect(versions.map((v) => v.version)).toEqual([1, 2]);
    const text = (await cbo(["secrets", "versions", "A"])).stdout;
    expect(text).toMatch(/^2\s+\S+\s+\S.*current$/m);
    // "By" is the token's name, as for releases; the token's id is in --json only.
    expect(text).not.toContain("token:");
  });

  it("rollback, delete, undelete, destroy", async () => {
    expect((await cbo(["secrets", "rollback", "A", "--to", "1", "--cas", "2"])).stdout).toBe(
      "secret A is at version 3, holding the value of version 1\n",
    );
    expect((await cbo(["secrets", "get", "A"], { valueOut: true })).stdout).toBe(PLANTED.A1);
    expect((await cbo(["secrets", "delete", "B"])).code).toBe(0);
    const gone = await cbo(["secrets", "get", "B"], { valueOut: true });
    expect([gone.code, gone.stdout]).toEqual([1, ""]);
    expect(gone.stderr).toMatch(/^error ERR_NOT_FOUND: /);
    expect((await cbo(["secrets", "undelete", "B"])).stdout).toBe("secret B undeleted\n");
    expect((await cbo(["secrets", "get", "B"], { valueOut: true })).stdout).toBe(PLANTED.B);
    const refused = await cbo(["secrets", "destroy", "C"]);
    expect(refused.code).toBe(1);
    expect(JSON.parse((await cbo(["secrets", "destroy", "C", "--yes", "--json"])).stdout)).toEqual({ name: "C", destroyed: [1] });
    expect((await cbo(["secrets", "get", "C"], { valueOut: true })).code).toBe(1);
  });

  let viewer: { token: string; id: string };
  it("tokens: create shows the token once; a viewer can list but not read values; revoke ends it", async () => {
    const created = await cbo(["tokens", "create", "--name", "auditor", "--role", "viewer", "--expires", "7d"]);
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^cbo_viewer_\S+\n$/);
    viewer = { token: created.stdout.trim(), id: /created token (\S+) "auditor"/.exec(created.stderr)![1]! };
    const env = { CBO_TOKEN: viewer.token };
    expect((await cbo(["secrets", "list"], { env })).code).toBe(0);
    const denied = await cbo(["secrets", "get", "D"], { env, valueOut: true });
    expect([denied.code, denied.stdout]).toEqual([1, ""]);
    expect(denied.stderr).toMatch(/^error ERR_FORBIDDEN: .*\nhint: reading a value needs an admin token/);
    const list = await cbo(["tokens", "list"]);
    expect(list.stdout).toMatch(new RegExp(`^${viewer.id}\\s+auditor\\s+viewer\\s+-\\s+\\S+\\s+\\S+\\s+active$`, "m"));
    expect(list.stdout).not.toContain(viewer.token);
    expect((await cbo(["tokens", "revoke", viewer.id])).stdout).toBe(`token ${viewer.id} revoked\n`);
    const after = await cbo(["secrets", "list"], { env });
    expect([after.code, after.stderr.split("\n")[0]]).toEqual([1, expect.stringMatching(/^error ERR_UNAUTHORIZED: /)]);
  });

  it("audit tail and search show what happened; values appear only as keyed hashes", async () => {
    type Entry = { seq: number; actor: string; target: string; outcome: string; details: Record<string, unknown> };
    const reads = JSON.parse((await cbo(["audit", "search", "--action", "secret.read", "--json"])).stdout) as Entry[];
    expect(reads.filter((e) => e.target === "secret:A" && e.outcome === "ok").length).toBeGreaterThanOrEqual(3);
    expect(reads.map((e) => e.seq)).toEqual([...reads.map((e) => e.seq)].sort((a, b) => a - b));
    // The viewer's refused read is on the record too, as a role denial.
    const denied = JSON.parse((await cbo(["audit", "search", "--action", "auth.denied", "--json"])).stdout) as Entry[];
    expect(denied.some((e) => e.actor.includes("auditor") && e.outcome === "denied" && e.details.required === "admin")).toBe(true);
    const tail = await cbo(["audit", "tail", "-n", "5"]);
    expect(tail.code).toBe(0);
    expect(tail.stdout.trimEnd().split("\n")).toHaveLength(5);
    expect(tail.stdout).toMatch(/token\.revoke/);
    const search = await cbo(["audit", "search", "--target", "secret:A", "--action", "secret.*"]);
    expect(search.stdout).toMatch(/^#\d+\s+\S+\s+\S+.*\s+secret\.put\s+secret:A\s+ok\s+\{.*"valueHash":"[0-9a-f]{64}"/m);
  });

  it("audit verify, offline, while the daemon runs and after it stopped (every entry then under a signed checkpoint)", async () => {
    const running = await cbo(["audit", "verify", "--json"]);
    expect(running.stderr).toBe("");
    expect(running.code).toBe(0);
    const live = JSON.parse(running.stdout);
    expect(live).toMatchObject({ ok: true, keys: [{ source: join(data, "orchestrator-key.json"), keyId: daemon!.orchestratorKey.keyId }] });
    expect(live.checkpointFiles[0]).toMatchObject({ file: join(data, "audit-checkpoints.jsonl"), unreadableLines: [] });
    expect(live.checkpointFiles[0].checkpoints).toBeGreaterThan(0);

    await daemon!.close();
    daemon = undefined;
    const stopped = await cbo(["audit", "verify"]);
    expect(stopped.code).toBe(0);
    expect(stopped.stdout).toMatch(/^ok: the audit log in \S+ verifies: \d+ entries, head #\d+ [0-9a-f]{16}$/m);
    const json = JSON.parse((await cbo(["audit", "verify", "--json"])).stdout);
    expect(json.coveredBySignature).toBe(json.checked);
  });

  it("no planted value in any CLI output but get's stdout, the daemon's log, the checkpoint file or the SQLite files", () => {
    const files = readdirSync(data)
      .filter((f) => f.startsWith("orchestrator.sqlite") || f === "audit-checkpoints.jsonl")
      .map((f) => readFileSync(join(data, f)));
    expect(files.length).toBeGreaterThanOrEqual(2);
    const haystacks = [...outputs, Buffer.from(daemonLog.join("\n")), ...files];
    expect(outputs.length).toBeGreaterThan(40);
    for (const needle of NEEDLES) {
      const hits = haystacks.filter((h) => h.includes(needle)).length;
      expect(hits, `planted ${needle.toString("hex").slice(0, 16)}…`).toBe(0);
    }
  });
});
