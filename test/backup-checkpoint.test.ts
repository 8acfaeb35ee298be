// The newest backup restores together with the off-site checkpoint file (issue 11, item 10). A real
// daemon (startDaemon) on a real data directory takes a backup through POST /v1/backups while it
// keeps writing; it stops (signing a last checkpoint, as it always does); the real `cbo restore`
// then restores that archive with `--checkpoint <data>/audit-checkpoints.jsonl`:
//   - the archive carries a signed checkpoint taken at the moment of the backup, so even the default
//     restore checks the whole archived log;
//   - the checkpoint file's later checkpoints are recognised as after the backup: the restore says
//     plainly how many later entries are not in the archive, and succeeds;
//   - a checkpoint the archive reaches but contradicts (validly signed with the daemon's own key,
//     over another log) is still refused as tampering, and so is a later one with a bad signature.
// The edge is never called: the spec has one local target and no workers.
import { appendFileSync, copyFileSync, cpSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canonicalJson, checkpointBody, readAuditExport, type AuditCheckpoint } from "../src/audit/index.ts";
import { startDaemon, type Daemon } from "../src/daemon.ts";
import { UNREACHABLE_EDGE as EDGE } from "./support/daemon-rig.ts";
import { generateKeyFile } from "../src/vault/index.ts";
import type { Backup } from "../src/contract/index.ts";
import { call } from "./support/api-fixtures.ts";
import { makeTempDir } from "./support/edge.ts";
import { runCbo } from "./support/run-cbo.ts";

describe("a backup restored with the checkpoint file kept off the VPS", () => {
  let dir: string;
  let data: string;
  let keyFile: string;
  let archive: string;
  let archiveHead: number;
  let d: Daemon | undefined;
  /** A checkpoint signed with the daemon's own key (the key that signs every checkpoint) over made-up fields. */
  let forge: (fields: Omit<AuditCheckpoint, "signature" | "key_id" | "at">) => Promise<AuditCheckpoint>;
  const restore = (target: string, ...more: string[]) =>
    runCbo(["restore", archive, "--data", join(dir, target), "--master-key-file", keyFile, ...more], { cwd: dir, timeoutMs: 60_000 });
  const checkpointFile = () => join(data, "audit-checkpoints.jsonl");

  beforeAll(async () => {
    dir = await makeTempDir("backup-checkpoint");
    data = join(dir, "data");
    keyFile = join(dir, "master.key");
    generateKeyFile(keyFile);
    writeFileSync(join(dir, "orchestrator.yaml"), "version: 1\ntargets:\n  - { name: eu, api: local }\n");
    // The default cadence (1,000 entries or 60 s): no checkpoint falls due during the test by itself.
    d = await startDaemon({
      dataDir: data,
      configFile: join(dir, "orchestrator.yaml"),
      port: 0,
      edge: EDGE,
      log: () => {},
      env: {},
      masterKeyFile: keyFile,
      monitorIntervalMs: 60_000,
    });
    const token = d.initialAdminToken!;
    for (let i = 0; i < 5; i++)
      expect((await call(d.url, "PUT", `/v1/secrets/S${i}`, { token, json: { value: `value-${i}` } })).status).toBe(200);
    const backup = await call<Backup>(d.url, "POST", "/v1/backups", { token, json: { out: join(dir, "newest.cbobak") } });
    expect(backup.status).toBe(200);
    archive = backup.body.file;
    archiveHead = backup.body.audit.entries;
    // Taken at the moment of the backup and carried in the archive.
    expect(backup.body.audit.checkpoints).toBeGreaterThanOrEqual(1);
    // The daemon keeps writing after the backup (its own backup.create entry first of all).
    for (let i = 0; i < 3; i++)
      expect((await call(d.url, "PUT", `/v1/secrets/LATER${i}`, { token, json: { value: `later-${i}` } })).status).toBe(200);
    const key = d.security.signingKey;
    const keyId = d.security.audit.keyId;
    forge = async (fields) => {
      const cp = { ...fields, key_id: keyId, at: new Date().toISOString() };
      const sig = new Uint8Array(await crypto.subtle.sign("Ed25519", key, checkpointBody(cp)));
      return { ...cp, signature: Buffer.from(sig).toString("hex") };
    };
    await d.close(); // signs a last checkpoint over everything, after the backup
    d = undefined;
  });
  afterAll(async () => {
    await d?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("the checkpoint file goes on beyond the archive: its last checkpoint covers entries written after the backup", () => {
    const sizes = readAuditExport(checkpointFile()).checkpoints.map((c) => ("unreadable" in c ? -1 : c.tree_size));
    expect(sizes).toContain(archiveHead); // the backup's own checkpoint, shipped like every other
    expect(Math.max(...sizes)).toBeGreaterThan(archiveHead + 3);
  });

  it("restores with --checkpoint, saying plainly that the later entries are not in the archive", async () => {
    const r = await restore("restored", "--checkpoint", checkpointFile());
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const last = Math.max(...readAuditExport(checkpointFile()).checkpoints.map((c) => ("unreadable" in c ? -1 : c.tree_size)));
    expect(r.stdout).toContain(`audit log   ${archiveHead} entries verified against`);
    expect(r.stdout).toContain(
      `checkpoint  the newest given checkpoint the archive reaches (tree size ${archiveHead}) matches it; ${last - archiveHead} later entries are not in this archive (${archiveHead + 1}..${last}, under 1 later checkpoint(s)): written after the backup, which is expected and not tampering`,
    );
    const json = await restore("restored-json", "--checkpoint", checkpointFile(), "--json");
    expect(JSON.parse(json.stdout).audit).toMatchObject({
      entries: archiveHead,
      uncovered: 0,
      externalCheckpoint: archiveHead,
      afterArchive: { checkpoints: 1, entries: last - archiveHead, upTo: last },
    });
  });

  it("without --checkpoint, the archive's own checkpoint covers its whole log", async () => {
    const r = await restore("restored-default", "--json");
    expect(r.code).toBe(0);
    const audit = JSON.parse(r.stdout).audit;
    expect(audit.checkpoints).toBeGreaterThanOrEqual(1);
    expect(audit).toMatchObject({ entries: archiveHead, uncovered: 0, afterArchive: null });
  });

  it("a signed checkpoint that the archive reaches but contradicts is tampering: refused, nothing left", async () => {
    const file = join(dir, "contradicting.jsonl");
    copyFileSync(checkpointFile(), file);
    const cp = await forge({ tree_size: archiveHead, merkle_root: "ab".repeat(32), head_hash: "cd".repeat(32) });
    appendFileSync(file, canonicalJson({ ...cp, kind: "checkpoint" }) + "\n");
    const r = await restore("tampered", "--checkpoint", file);
    expect(r.code).toBe(2);
    expect(r.stderr.split("\n")[0]).toMatch(
      /^error ERR_VAULT_INTEGRITY: This backup archive holds an audit log that does not verify: entry \d+: checkpoint root mismatch/,
    );
    expect(() => readFileSync(join(dir, "tampered", "orchestrator.sqlite"))).toThrow(/ENOENT/);
  });

  it("a cut-off last line (an append interrupted by power loss) is left out with a warning, in a --checkpoint file and in the archive's own; damage anywhere else is still refused", async () => {
    const lines = readFileSync(checkpointFile(), "utf8").split("\n").filter(Boolean);
    // Cut in its signature: every field name before it is there, as a write stopped by power loss leaves it.
    const half = await forge({ tree_size: archiveHead + 60, merkle_root: "ab".repeat(32), head_hash: "cd".repeat(32) });
    const cut = canonicalJson({ ...half, kind: "checkpoint" })
      .split('"tree_size"')[0]!
      .slice(0, -40);
    const file = join(dir, "cut-off.jsonl");
    writeFileSync(file, lines.join("\n") + "\n" + cut);
    const r = await restore("cut-off", "--checkpoint", file);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      `warning: ${file}: line ${lines.length + 1} is cut off (no newline at its end: the daemon was stopped while writing it); left out\n`,
    );
    expect(r.stdout).toContain(`checkpoint  the newest given checkpoint the archive reaches (tree size ${archiveHead}) matches it;`);
    // The same line with its newline was written whole: it is damage, and refused.
    writeFileSync(file, lines.join("\n") + "\n" + cut + "\n");
    const ended = await restore("cut-off-ended", "--checkpoint", file);
    expect(ended.code).toBe(2);
    expect(ended.stderr).toMatch(
      /^error ERR_VAULT_INTEGRITY: This backup archive holds an audit log that does not verify: entry 0: bad checkpoint signature/,
    );
    // A damaged line before the end is refused even when the last line is only cut off.
    writeFileSync(file, [lines[0]!.slice(0, 40), ...lines.slice(1)].join("\n") + "\n" + cut);
    const damaged = await restore("cut-off-damaged", "--checkpoint", file);
    expect(damaged.code).toBe(2);
    expect(damaged.stderr).toMatch(
      /^warning: .* is cut off .*\nerror ERR_VAULT_INTEGRITY: This backup archive holds an audit log that does not verify: entry 0: bad checkpoint signature/,
    );
    expect(() => readFileSync(join(dir, "cut-off-damaged", "orchestrator.sqlite"))).toThrow(/ENOENT/);

    // The daemon was killed while it appended, and the stopped data directory was backed up as it was.
    const killed = join(dir, "killed-data");
    cpSync(data, killed, { recursive: true });
    appendFileSync(join(killed, "audit-checkpoints.jsonl"), cut);
    const out = join(dir, "killed.cbobak");
    const made = await runCbo(["backup", "--data", killed, "--out", out, "--master-key-file", keyFile], { cwd: dir, timeoutMs: 60_000 });
    expect(made.code).toBe(0);
    const own = await runCbo(["restore", out, "--data", join(dir, "killed-restored"), "--master-key-file", keyFile], {
      cwd: dir,
      timeoutMs: 60_000,
    });
    expect(own.stderr).toBe("");
    expect(own.code).toBe(0);
    expect(own.stdout).toContain(
      `  warning     the archive's audit checkpoint file: line ${lines.length + 1} is cut off (no newline at its end: the daemon was stopped while writing it); left out; the daemon drops it at its start\n`,
    );
  });

  it("a later checkpoint whose signature does not verify is refused too", async () => {
    const file = join(dir, "forged-later.jsonl");
    copyFileSync(checkpointFile(), file);
    const cp = await forge({ tree_size: archiveHead + 50, merkle_root: "ab".repeat(32), head_hash: "cd".repeat(32) });
    appendFileSync(file, canonicalJson({ ...cp, signature: "00".repeat(64), kind: "checkpoint" }) + "\n");
    const r = await restore("forged", "--checkpoint", file);
    expect(r.code).toBe(2);
    expect(r.stderr.split("\n")[0]).toBe(
      `error ERR_VAULT_INTEGRITY: This backup archive is checked against a checkpoint file whose checkpoint at tree size ${archiveHead + 50} does not carry a valid signature.`,
    );
  });
});
