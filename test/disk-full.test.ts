// A disk that fills under the daemon (issue 11, item 8), on a real filesystem that fills: the data
// directory is a small tmpfs (test/support/tmpfs.ts; mounting needs root, which CI has). The real
// daemon (startDaemon) runs its monitor and drift checker every 50 ms over a spec with workers (the
// edge address refuses connections, so every pass records "unhealthy"/"unknown": a write per pass),
// and signs audit checkpoints every 100 ms. Then the disk is filled:
//   - writes through the API fail with 507 ERR_DISK_FULL naming the database, the bytes free and
//     the bytes needed; the real `cbo secrets set` and `cbo tokens create` print that, exit 2;
//   - the loops back off: one "disk is full" line, no failing pass after that, the WAL stops growing;
//   - once less than the room needed is freed nothing is written; once enough is, the WAL is
//     checkpointed (TRUNCATE) and writes resume by themselves;
//   - a backup (it starts with a signed checkpoint) and a restore onto the full disk say ERR_DISK_FULL;
//   - a daemon stopped on a full disk refuses to start with ERR_DISK_FULL saying how much room it
//     needs, and starts as soon as that much is free.
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDaemon, type Daemon, type DaemonOptions } from "../src/daemon.ts";
import { UNREACHABLE_EDGE as EDGE } from "./support/daemon-rig.ts";
import { generateKeyFile } from "../src/vault/index.ts";
import type { DaemonHealth, ErrorBody } from "../src/contract/index.ts";
import { call, type Answer, type Refusal } from "./support/api-fixtures.ts";
import { makeTempDir } from "./support/edge.ts";
import { runCbo } from "./support/run-cbo.ts";
import { fill, freeBytes, freeUp, mountTmpfs, unmount } from "./support/tmpfs.ts";

const HEADROOM = 256 * 1024;
const SPEC = `version: 1
targets:
  - { name: eu, api: local }
workers:
${Array.from({ length: 6 }, (_, i) => `  - { name: w${i}, main: w.ts, compatibility_date: "2025-01-01" }`).join("\n")}
`;

const until = async (what: string, ok: () => boolean, ms = 15_000) => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("a disk that fills under the daemon", () => {
  let dir: string;
  let disk: string;
  let data: string;
  let keyFile: string;
  let d: Daemon | undefined;
  let adminToken = "";
  const logs: string[] = [];
  const db = () => join(data, "orchestrator.sqlite");
  const walBytes = () => (existsSync(`${db()}-wal`) ? statSync(`${db()}-wal`).size : 0);
  const count = (re: RegExp) => logs.filter((l) => re.test(l)).length;
  const options = (): DaemonOptions => ({
    dataDir: data,
    configFile: join(dir, "orchestrator.yaml"),
    port: 0,
    edge: EDGE,
    env: {},
    masterKeyFile: keyFile,
    log: (l) => logs.push(l),
    monitorIntervalMs: 50,
    auditCheckpointEvery: { ms: 100 },
    storage: { headroomBytes: HEADROOM, probeMs: 100 },
  });

  beforeAll(async () => {
    dir = await makeTempDir("disk-full");
    disk = join(dir, "disk");
    mountTmpfs(disk, 12 * 1024 * 1024);
    data = join(disk, "data");
    keyFile = join(dir, "master.key"); // off the small disk, as in production
    generateKeyFile(keyFile);
    writeFileSync(join(dir, "orchestrator.yaml"), SPEC);
    writeFileSync(join(dir, "w.ts"), "export default { fetch: () => new Response('ok') };\n");
    writeFileSync(join(dir, "value.txt"), "disk-full-secret");
    d = await startDaemon(options());
    adminToken = d.initialAdminToken!;
    // The loops have been writing before the disk fills.
    await until("a few monitor passes", () => d!.store.health.list().length === 6);
  });
  afterAll(async () => {
    await d?.close().catch(() => {});
    if (disk) unmount(disk);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("writes fail with ERR_DISK_FULL (API and CLI), the loops back off, the WAL stops growing", async () => {
    const token = d!.initialAdminToken!;
    fill(disk);
    // Whatever room is left in the WAL's file is used up first; then every write meets the full disk.
    let answer: Answer<Refusal<{ neededBytes: number }>> | undefined;
    for (let i = 0; i < 400; i++) {
      answer = await call<Refusal<{ neededBytes: number }>>(d!.url, "PUT", `/v1/secrets/BIG${i}`, {
        token,
        json: { value: randomBytes(48 * 1024).toString("base64") },
      });
      if (answer.status !== 200) break;
    }
    expect(answer!.status).toBe(507);
    expect(answer!.body.error).toMatchObject({
      code: "ERR_DISK_FULL",
      details: { path: db(), neededBytes: expect.any(Number), freeBytes: expect.any(Number) },
    });
    expect(answer!.body.error.message).toMatch(
      new RegExp(`^The disk holding ${db()} is full \\(.* free, at least .* needed\\); nothing was changed\\.$`),
    );
    expect(answer!.body.error.details.neededBytes).toBeGreaterThanOrEqual(HEADROOM);
    await until("the storage watch to pause the writers", () => d!.store.storage.paused());

    const cli = (args: string[]) => runCbo([...args, "--url", d!.url], { cwd: dir, env: { CBO_TOKEN: token }, timeoutMs: 30_000 });
    const set = await cli(["secrets", "set", "WHILE_FULL", "--from-file", join(dir, "value.txt")]);
    expect(set.code).toBe(2);
    expect(set.stderr).toMatch(new RegExp(`^error ERR_DISK_FULL: The disk holding ${db()} is full \\(`));
    expect(set.stderr).toMatch(/\nhint: free that much space on the daemon's disk; it resumes writing by itself, then retry\n$/);
    const tok = await cli(["tokens", "create", "--name", "while-full", "--role", "viewer"]);
    expect([tok.code, tok.stderr.split("\n")[0]]).toEqual([2, expect.stringMatching(/^error ERR_DISK_FULL: The disk holding /)]);
    // A backup starts with a signed checkpoint, which cannot be stored either.
    const backup = await call<ErrorBody>(d!.url, "POST", "/v1/backups", { token, json: {} });
    expect([backup.status, backup.body.error.code]).toEqual([507, "ERR_DISK_FULL"]);

    // Backed off: said once; after that no loop tries (and fails) again, and the WAL does not grow.
    const failures = () => count(/monitor pass failed|drift pass failed|checkpoint failed|heartbeats: could not store/);
    const [said, failed, wal] = [count(/^storage: the disk holding .* is full/), failures(), walBytes()];
    await sleep(1_500); // some 30 passes of each loop
    expect(count(/^storage: the disk holding .* is full/)).toBe(1);
    expect(said).toBe(1);
    expect(failures()).toBe(failed);
    expect(failed).toBeLessThanOrEqual(6);
    expect(walBytes()).toBe(wal);
    expect(d!.store.storage.state()).toMatchObject({ full: true, path: db() });
    // GET /v1/health (public) says so, without the path.
    const health = await call<DaemonHealth>(d!.url, "GET", "/v1/health");
    expect(health.body.storage).toEqual({ full: true, since: expect.any(String), neededBytes: expect.any(Number) });
  });

  it("resumes by itself once there is room: not before, and with the WAL checkpointed", async () => {
    const need = (d!.store.storage.state() as { neededBytes: number }).neededBytes;
    // Less than needed: still paused (a checkpoint now would only grow the file into it).
    freeUp(disk, Math.floor(HEADROOM / 2));
    await sleep(500);
    expect(d!.store.storage.paused()).toBe(true);
    expect(count(/writes resume/)).toBe(0);
    freeUp(disk, need + 64 * 1024);
    await until("the writers to resume", () => !d!.store.storage.paused(), 5_000);
    expect(logs.find((l) => /writes resume/.test(l))).toMatch(
      /^storage: .* free again on the disk of .*orchestrator\.sqlite; the WAL was checkpointed and truncated, writes resume$/,
    );
    const token = d!.initialAdminToken!;
    const r = await call(d!.url, "PUT", "/v1/secrets/AFTER", { token, json: { value: "room again" } });
    expect(r.status).toBe(200);
    expect((await call<DaemonHealth>(d!.url, "GET", "/v1/health")).body.storage).toEqual({ full: false });
    const before = d!.store.health.list()[0]!.checked_at;
    await until("the monitor to record again", () => d!.store.health.list()[0]!.checked_at !== before, 5_000);
    const backup = await call(d!.url, "POST", "/v1/backups", { token, json: { out: join(dir, "saved.cbobak") } });
    expect(backup.status).toBe(200);
  });

  it("a daemon stopped on a full disk starts again as soon as the room it names is free", async () => {
    const token = d!.initialAdminToken!;
    rmSync(join(disk, "filler"));
    // New pages in the WAL (under the 4 MiB autocheckpoint): when the disk is full, the database
    // file cannot grow to take them, so the WAL outlives the daemon.
    for (let i = 0; i < 30; i++)
      expect(
        (await call(d!.url, "PUT", `/v1/secrets/WAL${i}`, { token, json: { value: randomBytes(48 * 1024).toString("base64") } })).status,
      ).toBe(200);
    fill(disk);
    for (let i = 0; i < 400; i++) {
      const r = await call(d!.url, "PUT", `/v1/secrets/AGAIN${i}`, { token, json: { value: randomBytes(48 * 1024).toString("base64") } });
      if (r.status !== 200) break;
    }
    await until("the storage watch to pause the writers", () => d!.store.storage.paused());
    // A restore onto the full disk: named, and nothing left behind.
    const restored = join(disk, "restored");
    const r0 = await runCbo(["restore", join(dir, "saved.cbobak"), "--data", restored, "--master-key-file", keyFile], {
      cwd: dir,
      timeoutMs: 30_000,
    });
    expect([r0.code, r0.stderr.split("\n")[0]]).toEqual([
      2,
      expect.stringMatching(new RegExp(`^error ERR_DISK_FULL: The disk holding ${restored} is full \\(`)),
    ]);
    expect(existsSync(restored)).toBe(false);
    await d!.close();
    d = undefined;
    expect(walBytes()).toBeGreaterThan(1024 * 1024);
    const refused = await startDaemon(options()).then(
      async (x) => (await x.close(), { code: "started", message: "", hint: "", details: {} as Record<string, number> }),
      (e: { code: string; message: string; hint?: string; details: Record<string, number> }) => e,
    );
    expect(refused.code).toBe("ERR_DISK_FULL");
    // A stopped daemon does not resume by itself: the hint says to start it again once there is room.
    expect(refused.hint).toMatch(/^Free at least .* \(or raise the quota\), then retry; .* a stopped one starts again then\.$/);
    expect(refused.message).toMatch(/^The disk holding .* is full \(.* free, at least .* needed\); nothing was changed\.$/);
    const needed = refused.details.neededBytes!;
    expect(needed).toBeGreaterThanOrEqual(HEADROOM);
    expect(needed).toBeLessThan(freeBytes(disk) + 12 * 1024 * 1024);
    freeUp(disk, needed);
    d = await startDaemon(options());
    const r = await call(d.url, "PUT", "/v1/secrets/RESTARTED", { token, json: { value: "started again" } });
    expect(r.status).toBe(200);
    expect(logs.some((l) => /^storage: folded the .* WAL the last run left into /.test(l))).toBe(true);
  });

  it("a backup onto a full disk of its own names the archive (not the data directory's files) and leaves nothing there", async () => {
    const token = adminToken;
    const other = join(dir, "archives"); // off the data directory's disk, which has room now
    rmSync(join(disk, "filler"));
    mountTmpfs(other, 32 * 1024 * 1024);
    try {
      fill(other);
      const out = join(other, "full.cbobak");
      const r = await call<Refusal<{ path: string }>>(d!.url, "POST", "/v1/backups", { token, json: { out } });
      expect([r.status, r.body.error?.code, r.body.error?.details?.path], r.text).toEqual([507, "ERR_DISK_FULL", out]);
      expect(r.body.error.message).toMatch(new RegExp(`^The disk holding ${out} is full \\(0 B free, at least .* needed\\)`));
      const cli = await runCbo(["backup", "--out", join(other, "cli.cbobak"), "--url", d!.url], {
        cwd: dir,
        env: { CBO_TOKEN: token },
        timeoutMs: 30_000,
      });
      expect([cli.code, cli.stderr.split("\n")[0]]).toEqual([
        2,
        expect.stringMatching(new RegExp(`^error ERR_DISK_FULL: The disk holding ${other}/cli\\.cbobak is full`)),
      ]);
      expect(readdirSync(other)).toEqual(["filler"]);
      // The daemon's own disk was never the problem: its writers are not paused for another disk.
      expect(count(/^storage: the disk holding .*archives/)).toBe(0);
      expect(d!.store.storage.paused()).toBe(false);
      freeUp(other, 24 * 1024 * 1024);
      expect((await call(d!.url, "POST", "/v1/backups", { token, json: { out } })).status).toBe(200);
    } finally {
      unmount(other);
    }
  });
});
