// The restore drill, end to end: a real daemon (startDaemon, master key file) on a real
// three-region local edge releases the example fleet; `cbo backup` runs while the daemon keeps
// writing (secret writes through the API, each audited); the daemon stops and its data directory
// is wiped; `cbo restore` onto an empty directory; a second daemon starts there against the same
// edge. It comes back with the same release history, secrets, tokens and audit log, reconciles,
// and every region still serves the live version.
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDaemon, type Daemon } from "../src/daemon.ts";
import { generateKeyFile } from "../src/vault/index.ts";
import { found, needles, runBackupCli, tempDir } from "./backup-fixture.ts";
import { bearerApi } from "./support/daemon-rig.ts";
import { startTestEdge, type TestEdge } from "./support/edge.ts";
import { httpGet } from "./support/http.ts";

const EXAMPLE = fileURLToPath(new URL("../examples/orchestrator.yaml", import.meta.url));
const REGIONS = ["eu", "us", "ap"];
const PLANTED = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`DRILL_${i}`, `drill-planted-${i}-${crypto.randomUUID()}`]));

type Status = {
  workers: Array<{
    name: string;
    targets: Array<{ target: string; live: Array<{ versionId: string; percentage: number }> }>;
    lastRelease: { id: string; status: string } | null;
  }>;
};
type Release = { id: string; worker: string; kind: string; status: string; reason: string | null };

const api = <T>(d: Daemon, token: string, method: string, path: string, body?: unknown): Promise<T> =>
  bearerApi({ url: d.url, token })<T>(method, path, body);

/** What must survive a restore: live versions per worker and target, and the last release. */
const essentials = (s: Status) =>
  s.workers.map((w) => ({
    name: w.name,
    lastRelease: w.lastRelease && { id: w.lastRelease.id, status: w.lastRelease.status },
    live: w.targets.map((t) => ({ target: t.target, live: t.live })),
  }));

describe("restore drill against a real daemon and edge", () => {
  let t: TestEdge;
  let dir: string;
  let keyFile: string;
  let d1: Daemon | undefined;
  let d2: Daemon | undefined;
  const logs: string[] = [];
  const start = (dataDir: string) =>
    startDaemon({
      dataDir,
      configFile: EXAMPLE,
      edge: t.edge,
      masterKeyFile: keyFile,
      env: {},
      port: 0,
      monitorIntervalMs: 200,
      auditCheckpointEvery: { entries: 20, ms: 60_000 },
      log: (l) => logs.push(l),
    });

  beforeAll(async () => {
    t = await startTestEdge({ regions: REGIONS });
    dir = tempDir("backup-drill");
    keyFile = join(dir, "master.key"); // outside the data directory: it is never in a backup
    generateKeyFile(keyFile);
  });
  afterAll(async () => {
    await d1?.close();
    await d2?.close();
    await t?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("back up while the daemon writes, wipe, restore, start again: same history, secrets and tokens; the edge still serves the live versions", async () => {
    const data1 = join(dir, "data1");
    d1 = await start(data1);
    const token = d1.initialAdminToken!;
    expect(token).toBeTruthy();
    // The example's API Worker relays its webhook secret: it must be in the vault to release.
    await api(d1, token, "PUT", "/v1/secrets/SHOPIFY_WEBHOOK_SECRET", { value: PLANTED.DRILL_0, mode: "relay" });
    for (const w of d1.spec.workers) {
      const r = await api<Release>(d1, token, "POST", "/v1/releases", { worker: w.name });
      expect((await d1.engine.wait(r.id)).status).toBe("succeeded");
    }
    for (const [name, value] of Object.entries(PLANTED)) await api(d1, token, "PUT", `/v1/secrets/${name}`, { value });
    const status1 = await api<Status>(d1, token, "GET", "/v1/status");
    const releases1 = (await api<{ items: Release[] }>(d1, token, "GET", "/v1/releases")).items;
    const tokens1 = await api<unknown[]>(d1, token, "GET", "/v1/tokens");
    expect(releases1.length).toBe(d1.spec.workers.length);

    // Writes keep landing while the backup runs: each one a vault write and an audit entry.
    let writing = true;
    let writes = 0;
    const load = (async () => {
      while (writing) await api(d1!, token, "PUT", "/v1/secrets/LOAD", { value: `load ${writes++}` });
    })();
    const archive = join(dir, "drill.cbobak");
    const backup = await runBackupCli(["backup", "--data", data1, "--out", archive], { env: { CBO_MASTER_KEY_FILE: keyFile } });
    const writesDuringBackup = writes;
    writing = false;
    await load;
    expect(backup.stderr).toBe("");
    expect(backup.code).toBe(0);
    expect(writesDuringBackup).toBeGreaterThan(0);

    const list = Object.entries(PLANTED).flatMap(([n, v]) => needles(n, v));
    expect(found(readFileSync(archive), list)).toEqual([]);

    // The VPS is gone: the daemon stops, its data directory is wiped.
    await d1.close();
    d1 = undefined;
    rmSync(data1, { recursive: true, force: true });

    const data2 = join(dir, "data2");
    const restore = await runBackupCli(["restore", archive, "--data", data2, "--json"], { env: { CBO_MASTER_KEY_FILE: keyFile } });
    expect(restore.stderr).toBe("");
    expect(restore.code).toBe(0);
    const restored = JSON.parse(restore.stdout) as {
      masterKeyId: string;
      audit: { entries: number; checkpoints: number; publicKeyFrom: string };
      releases: { total: number; unfinished: unknown[] };
    };
    expect(restored.audit).toMatchObject({ publicKeyFrom: "vault" });
    expect(restored.audit.checkpoints).toBeGreaterThan(0);
    expect(restored.releases).toEqual({ total: releases1.length, unfinished: [] });

    d2 = await start(data2);
    expect(d2.initialAdminToken).toBeUndefined(); // the tokens came back: no new admin token
    expect(d2.masterKey.id).toBe(restored.masterKeyId);
    const status2 = await api<Status>(d2, token, "GET", "/v1/status"); // the old admin token works
    expect(essentials(status2)).toEqual(essentials(status1));
    const releases2 = (await api<{ items: Release[] }>(d2, token, "GET", "/v1/releases")).items;
    expect(releases2.map((r) => [r.id, r.worker, r.status])).toEqual(releases1.map((r) => [r.id, r.worker, r.status]));
    expect(await api<unknown[]>(d2, token, "GET", "/v1/tokens")).toEqual(tokens1);
    for (const [name, value] of Object.entries(PLANTED)) {
      expect((await api<{ value: string }>(d2, token, "GET", `/v1/secrets/${name}/value`)).value === value, name).toBe(true);
    }
    const verify = await api<{ ok: boolean; checked: number }>(d2, token, "POST", "/v1/audit/verify");
    expect(verify.ok).toBe(true);
    expect(verify.checked).toBeGreaterThanOrEqual(restored.audit.entries);

    // Reconciled with the edge: every region serves the version the restored store calls live.
    const api2 = status2.workers.find((w) => w.name === "ads-api")!;
    for (const region of REGIONS) {
      const live = api2.targets.find((x) => x.target === region)!.live;
      expect(live).toHaveLength(1);
      expect(live[0]!.percentage).toBe(100);
      for (let i = 0; i < 5; i++) {
        const r = await httpGet(t.edge.region(region).port, "ads-api.localhost", { path: "/health" });
        expect(r.status).toBe(200);
        expect((JSON.parse(r.body) as { version: string }).version).toBe(live[0]!.versionId);
      }
    }
    // Nothing the daemons logged holds a planted value.
    expect(found(Buffer.from(logs.join("\n")), list)).toEqual([]);
  });
});
