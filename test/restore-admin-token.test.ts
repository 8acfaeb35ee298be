// A restored data directory has no admin-token file (an archive never holds one): the real `cbo`
// binary says so instead of naming a file that is not there, and says how to get an admin token:
// `cbo tokens create --offline` (the daemon stopped, the master key given) mints one in the data
// directory, on the audit record, and writes <data>/admin-token, after which the CLI works again.
// The daemons are the real `cbo daemon` (child processes). The spec has one local target and no
// workers, so nothing calls the edge: its address book (edge.json, token) is a stand-in.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempDir } from "./support/edge.ts";
import { eventually } from "./support/http.ts";
import { runCbo, startCbo } from "./support/run-cbo.ts";

const SPEC = "version: 1\ntargets:\n  - { name: eu, api: local }\n";

describe("a restored data directory and its admin token", () => {
  let dir: string;
  const keyFile = () => join(dir, "master.key");
  const spec = () => join(dir, "orchestrator.yaml");
  const restored = () => join(dir, "restored");
  const cbo = (args: string[]) => runCbo(args, { cwd: dir, timeoutMs: 60_000 });
  /** `cbo tokens create --offline` of an admin token named `name` on the restored directory, with its key. */
  const mintOffline = (name: string) =>
    cbo(["tokens", "create", "--offline", "--data", restored(), "--name", name, "--role", "admin", "--master-key-file", keyFile()]);

  /** `cbo daemon` on `data` until its JSON line; then stop it with SIGTERM. */
  async function daemon(data: string) {
    // The stand-in edge's address book where `cbo daemon --data DIR` looks for a running edge.
    mkdirSync(join(data, "edge"), { recursive: true });
    writeFileSync(
      join(data, "edge", "edge.json"),
      JSON.stringify({
        apiUrl: "http://127.0.0.1:9",
        regions: [{ name: "eu", accountId: "e".repeat(32), accountName: "eu", subdomain: "eu", port: 9, publicUrl: "http://127.0.0.1:9" }],
      }),
    );
    writeFileSync(join(data, "edge", "token"), "unused\n", { mode: 0o600 });
    const child = startCbo(["daemon", "--data", data, "--config", spec(), "--master-key-file", keyFile(), "--port", "0"], { cwd: dir });
    const line = await eventually(async () => {
      const first = child.output.stdout.split("\n")[0];
      if (!first || !child.output.stdout.includes("\n")) throw new Error(`no line yet; stderr: ${child.output.stderr.slice(-300)}`);
      return JSON.parse(first) as { url: string; adminTokenFile?: string; adminTokenMissing?: string };
    }, 30_000);
    return {
      line,
      stderr: () => child.output.stderr,
      async stop() {
        child.kill("SIGTERM");
        expect((await child.done).code).toBe(0);
      },
    };
  }

  beforeAll(async () => {
    dir = await makeTempDir("restore-token");
    writeFileSync(spec(), SPEC);
    writeFileSync(keyFile(), randomBytes(32).toString("base64") + "\n", { mode: 0o600 });
    // A data directory with a history: one daemon start (its admin token), then an offline backup.
    const first = await daemon(join(dir, "original"));
    expect(first.line.adminTokenFile).toBe(join(dir, "original", "admin-token"));
    await first.stop();
    const backup = await cbo([
      "backup",
      "--data",
      join(dir, "original"),
      "--out",
      join(dir, "a.cboarchive"),
      "--master-key-file",
      keyFile(),
    ]);
    expect(backup.code, backup.stderr).toBe(0);
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("cbo restore says the admin-token file is never in an archive, and how to make one", async () => {
    const r = await cbo(["restore", join(dir, "a.cboarchive"), "--data", restored(), "--master-key-file", keyFile()]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("the admin-token file is never in an archive");
    // With the key file that opened the archive, so that each next step runs as printed.
    expect(r.stdout).toContain(
      `CBO_MASTER_KEY_FILE=${keyFile()} npx cbo tokens create --offline --data ${restored()} --name admin --role admin`,
    );
    expect(r.stdout).toContain(`  CBO_MASTER_KEY_FILE=${keyFile()} npx cbo daemon --data ${restored()}    (or put a copy of it at`);
    expect(existsSync(join(restored(), "admin-token"))).toBe(false);
  });

  it("a daemon on it names no admin-token file: it says there is none and how to get a token", async () => {
    const d = await daemon(restored());
    try {
      expect(d.line.adminTokenFile).toBeUndefined();
      expect(d.line.adminTokenMissing).toMatch(/does not exist: a restored data directory, or the file was removed/);
      expect(d.line.adminTokenMissing).toContain(`tokens create --offline --data ${restored()}`);
      expect(d.stderr()).toMatch(/^cbo: admin token: none in /m);
      // While it runs, the offline way is refused: the daemon holds the audit log.
      const busy = await mintOffline("x");
      expect([busy.code, busy.stderr.split("\n")[0]]).toEqual([1, expect.stringMatching(/^error ERR_CONFLICT: A daemon runs on /)]);
    } finally {
      await d.stop();
    }
  });

  it("cbo tokens create --offline mints an admin token into <data>/admin-token, on the audit record; then the CLI works", async () => {
    const noKey = await cbo(["tokens", "create", "--offline", "--data", restored(), "--name", "admin", "--role", "admin"]);
    expect(noKey.code).toBe(1);
    expect(existsSync(join(restored(), "admin-token"))).toBe(false);
    // A name the API would refuse (a line break forges a line of `cbo audit tail`) is refused offline too.
    const forged = await mintOffline("a\nb");
    expect([forged.code, forged.stderr.split("\n")[0]]).toEqual([
      1,
      expect.stringMatching(/^error ERR_USAGE: --name must be one line of text/),
    ]);
    expect(existsSync(join(restored(), "admin-token"))).toBe(false);
    const made = await mintOffline("admin");
    expect(made.code, made.stderr).toBe(0);
    const token = made.stdout.trim();
    expect(token).toMatch(/^cbo_admin_/);
    const file = join(restored(), "admin-token");
    expect(readFileSync(file, "utf8").trim()).toBe(token);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(made.stderr).toMatch(/on the audit record as token\.create by cli:\S+; also written to /);
    // The chain still verifies offline, with the new entry and its last checkpoint.
    const verify = await cbo(["audit", "verify", "--data", restored()]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);

    const d = await daemon(restored());
    try {
      expect(d.line.adminTokenFile).toBe(file);
      const status = await cbo(["status", "--data", restored(), "--json"]);
      expect(status.code, status.stderr).toBe(0);
      const entries = JSON.parse(
        (await cbo(["audit", "search", "--action", "token.create", "--data", restored(), "--json"])).stdout,
      ) as Array<{
        actor: string;
        details: { role: string; offline?: boolean };
      }>;
      expect(entries.at(-1)).toMatchObject({ actor: expect.stringMatching(/^cli:/), details: { role: "admin", offline: true } });
      expect(JSON.stringify(entries)).not.toContain(token);
    } finally {
      await d.stop();
    }
  });
});
