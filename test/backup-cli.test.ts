// `cbo backup` and `cbo restore` as a user runs them (a child process, see runBackupCli): master
// key sources, --dir/--keep, refusals with their exit codes, and no secret in any output.
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listArchives } from "../src/backup/index.ts";
import { makeDataDir, needles, found, runBackupCli, tempDir, type Fixture } from "./backup-fixture.ts";
import type { CboRun } from "./support/run-cbo.ts";

describe("cbo backup / cbo restore", () => {
  let fx: Fixture;
  let keyB64: string;
  let keyFile: string;
  const outputs: Buffer[] = [];
  const cli = async (args: string[], env: Record<string, string> = {}): Promise<CboRun> => {
    const r = await runBackupCli(args, { env });
    outputs.push(Buffer.from(r.stdout), Buffer.from(r.stderr));
    return r;
  };

  beforeAll(async () => {
    fx = await makeDataDir();
    keyB64 = fx.keyBytes.toString("base64");
    keyFile = join(tempDir("backup-cli-key"), "master.key");
    writeFileSync(keyFile, keyB64 + "\n", { mode: 0o600 });
  });
  afterAll(async () => {
    await fx.close();
    // Nothing the commands printed holds a planted value or the master key, in any encoding.
    const list = [...fx.planted.flatMap((p, i) => needles(`planted value ${i}`, p)), ...needles("master key", fx.keyBytes)];
    expect(found(Buffer.concat(outputs), list)).toEqual([]);
  });

  let archive: string;

  it("backup (key from CBO_MASTER_KEY) writes a 0600 archive into <data>/backups while the store is open", async () => {
    const r = await cli(["backup", "--data", fx.dataDir], { CBO_MASTER_KEY: keyB64 });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(
      new RegExp(`^backup written: ${fx.dataDir}/backups/cbo-backup-\\d{8}T\\d{9}Z-[0-9a-f]{6}\\.cbobak \\(\\d+ bytes\\)$`),
    );
    expect(r.stdout).toMatch(/^ {2}orchestrator\.sqlite\s+\d+ bytes$/m);
    expect(r.stdout).toMatch(/^ {2}audit-checkpoints\.jsonl\s+\d+ bytes$/m);
    expect(r.stdout).toContain(`audit log: ${fx.audit.head().seq} entries`);
    expect(r.stdout).toContain(`sealed with master key ${fx.masterKey.id}`);
    archive = lines[0]!.replace(/^backup written: (.*) \(\d+ bytes\)$/, "$1");
    expect(statSync(archive).mode & 0o777).toBe(0o600);
  });

  it("restore (key from --master-key-file) verifies and says what comes next", async () => {
    const target = join(tempDir("backup-cli-r"), "data");
    const r = await cli(["restore", archive, "--data", target, "--master-key-file", keyFile]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^restored ${archive} \\(made \\S+\\) into ${target}$`, "m"));
    expect(r.stdout).toMatch(
      new RegExp(
        `^ {2}audit log {3}${fx.audit.head().seq} entries verified against [1-9]\\d* signed checkpoint\\(s\\), head ${fx.audit.head().seq} `,
        "m",
      ),
    );
    expect(r.stdout).toMatch(/^ {2}releases {4}1$/m);
    expect(r.stdout).toMatch(/^ {2}secrets {5}6 \(sealed with master key [0-9a-f]{16}\)/m);
    expect(r.stdout).toContain(`cbo daemon --data ${target}`);
    expect(readdirSync(target).sort()).toEqual(["audit-checkpoints.jsonl", "orchestrator.sqlite"]);
  });

  it("--json on both", async () => {
    const out = join(tempDir("backup-cli-json"), "x.cbobak");
    const b = JSON.parse(
      (await cli(["backup", "--data", fx.dataDir, "--out", out, "--json"], { CBO_MASTER_KEY_FILE: keyFile })).stdout,
    ) as { file: string; masterKeyId: string; removed: string[] };
    expect(b).toMatchObject({ file: out, masterKeyId: fx.masterKey.id, removed: [] });
    expect(readdirSync(dirname(out))).toEqual(["x.cbobak"]); // no temp copy left beside it
    const target = join(tempDir("backup-cli-json-r"), "d");
    const r = JSON.parse((await cli(["restore", out, "--data", target, "--json"], { CBO_MASTER_KEY: keyB64 })).stdout) as {
      dataDir: string;
      audit: { entries: number; publicKeyFrom: string };
    };
    expect(r).toMatchObject({ dataDir: target, audit: { publicKeyFrom: "vault" } });
  });

  it("--dir with --keep prunes to the newest N; <data>/master.key is the default key file", async () => {
    const dir = tempDir("backup-cli-keep");
    const data = fx.dataDir;
    writeFileSync(join(data, "master.key"), keyB64 + "\n", { mode: 0o600 });
    for (let i = 0; i < 3; i++) expect((await cli(["backup", "--data", data, "--dir", dir, "--keep", "2"])).code).toBe(0);
    expect(listArchives(dir).length).toBe(2);
    expect(outputs.at(-2)!.toString()).toMatch(/removed 1 older archive\(s\), keeping the 2 newest/);
  });

  it("refusals: exit 1 for the operator's mistakes, 2 for an archive that does not authenticate", async () => {
    const noKey = await cli(["backup", "--data", tempDir("backup-cli-nokey")]);
    expect([noKey.code, noKey.stderr.split("\n")[0]]).toEqual([
      1,
      "error ERR_USAGE: No master key given: only the key the vault was sealed with opens it (a new key never will).",
    ]);
    expect(noKey.stderr).toMatch(
      /\nhint: pass it: --master-key-file FILE or CBO_MASTER_KEY_FILE=FILE .*master\.key is used when it exists\)/,
    );
    expect(noKey.stderr).not.toContain("openssl rand");
    const both = await cli(["backup", "--data", fx.dataDir, "--out", "x", "--dir", "y"], { CBO_MASTER_KEY: keyB64 });
    expect([both.code, both.stderr.split("\n")[0]]).toEqual([
      1,
      "error ERR_USAGE: --out names one archive; --dir and --keep manage a directory of them. Use one or the other.",
    ]);
    const twice = await cli(["backup", "--data", fx.dataDir, "--master-key-file", keyFile], { CBO_MASTER_KEY: keyB64 });
    expect([twice.code, twice.stderr.split("\n")[0]]).toEqual([
      1,
      "error ERR_USAGE: the master key is configured twice (CBO_MASTER_KEY and a key file); use exactly one source",
    ]);
    const noData = await cli(["restore", archive], { CBO_MASTER_KEY: keyB64 });
    expect([noData.code, noData.stderr.split("\n")[0]]).toEqual([
      1,
      "error ERR_USAGE: Missing --data DIR: the (empty or new) directory to restore into.",
    ]);

    // No key at all: the archive's key id and how to pass that key, never "make a new one".
    const noKeyTarget = join(tempDir("backup-cli-restore-nokey"), "d");
    const restoreNoKey = await cli(["restore", archive, "--data", noKeyTarget]);
    expect([restoreNoKey.code, restoreNoKey.stderr.split("\n")[0]]).toEqual([
      1,
      `error ERR_USAGE: No master key given: ${archive} was sealed with master key ${fx.masterKey.id}, and only that key opens it (a new key never will).`,
    ]);
    expect(restoreNoKey.stderr).toMatch(
      /\nhint: pass the key it was sealed with: --master-key-file FILE \(the key file, mode 0600\) or CBO_MASTER_KEY_FILE=FILE, or CBO_MASTER_KEY=/,
    );
    expect(restoreNoKey.stderr).toContain(`found beside it as <file>.retired-${fx.masterKey.id}`);
    expect(restoreNoKey.stderr).not.toMatch(/openssl rand|CBO_MASTER_PASSPHRASE/);
    expect(existsSync(noKeyTarget)).toBe(false);
    const noKeyJson = JSON.parse((await cli(["restore", archive, "--data", noKeyTarget, "--json"])).stdout) as {
      error: { code: string; details: { archiveKeyId: string } };
    };
    expect(noKeyJson.error).toMatchObject({ code: "ERR_USAGE", details: { archiveKeyId: fx.masterKey.id, passphrase: false } });

    const full = tempDir("backup-cli-full");
    writeFileSync(join(full, "x"), "");
    const conflict = await cli(["restore", archive, "--data", full], { CBO_MASTER_KEY: keyB64 });
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toMatch(
      /^error ERR_CONFLICT: .* is not empty \(1 entry\); a restore never overwrites a data directory\.\nhint: /,
    );

    const target = join(tempDir("backup-cli-wrong"), "d");
    const wrong = await cli(["restore", archive, "--data", target], { CBO_MASTER_KEY: randomBytes(32).toString("base64") });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(
      new RegExp(
        `^error ERR_VAULT_INTEGRITY: This backup archive was sealed with master key ${fx.masterKey.id}, not with this one \\([0-9a-f]{16}\\)\\.\\nhint: give the master key`,
      ),
    );
    expect(existsSync(target)).toBe(false);

    const passphraseOnKeyVault = await cli(["restore", archive, "--data", target], { CBO_MASTER_PASSPHRASE: "a long enough passphrase" });
    expect([passphraseOnKeyVault.code, passphraseOnKeyVault.stderr.split("\n")[0]]).toEqual([
      1,
      `error ERR_USAGE: The vault in this archive (sealed with master key ${fx.masterKey.id}) does not use a passphrase: give its master key instead.`,
    ]);
  });
});
