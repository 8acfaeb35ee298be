// The backup schedule set where an operator sets it: `backup:` in orchestrator.yaml, or the daemon's
// --backup-every/--backup-keep/--backup-dir flags, each flag winning over its key. A real daemon on
// a real local edge with a 1 s schedule writes archives on its own, keeps the newest N, and records
// each one in the audit log.
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listArchives } from "../src/backup/index.ts";
import { resolveBackupSchedule } from "../src/config/backup.ts";
import { loadSpec } from "../src/config/load.ts";
import type { Daemon } from "../src/daemon.ts";
import { CboError } from "../src/kit/errors.ts";
import { startDaemonIn } from "./support/daemon-rig.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";

const spec = (backup: string) => `version: 1
targets:
  - { name: eu, api: local }
workers:
  - { name: hello, main: hello.js }
${backup}
`;

const until = async (cond: () => boolean, ms = 20_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 50));
  }
};
const codeOf = (f: () => unknown) => {
  try {
    f();
    return "no error";
  } catch (e) {
    return e instanceof CboError ? `${e.code}: ${e.message}` : String(e);
  }
};

describe("backup settings", () => {
  it("flags win over orchestrator.yaml key by key; no `every` anywhere means no schedule", () => {
    const fromSpec = { everyMs: 6 * 3_600_000, keep: 14, dir: "/var/backups/cbo" };
    expect(resolveBackupSchedule(fromSpec)).toEqual(fromSpec);
    expect(resolveBackupSchedule(fromSpec, { keep: "3" })).toEqual({ ...fromSpec, keep: 3 });
    expect(resolveBackupSchedule(fromSpec, { every: "30m", dir: "/srv/b" })).toEqual({ everyMs: 1_800_000, keep: 14, dir: "/srv/b" });
    expect(resolveBackupSchedule(undefined, { every: "1d" })).toEqual({ everyMs: 86_400_000, keep: 14 });
    expect(resolveBackupSchedule(undefined, {})).toBeUndefined();
    expect(codeOf(() => resolveBackupSchedule(undefined, { keep: "3" }))).toMatch(
      /^ERR_USAGE: --backup-keep and --backup-dir need a schedule/,
    );
    expect(codeOf(() => resolveBackupSchedule(undefined, { every: "soon" }))).toMatch(/^ERR_USAGE: --backup-every takes a duration/);
    expect(codeOf(() => resolveBackupSchedule(fromSpec, { keep: "0" }))).toMatch(/^ERR_USAGE: --backup-keep takes a whole number/);
  });

  it("orchestrator.yaml's backup: is validated with its path, its dir resolved beside the file", async () => {
    const dir = await makeTempDir("backup-spec");
    const file = join(dir, "orchestrator.yaml");
    writeFileSync(join(dir, "hello.js"), "export default { fetch: () => new Response('hi') };\n");
    writeFileSync(file, spec("backup: { every: 6h, keep: 3, dir: archives }"));
    expect(loadSpec(file).backup).toEqual({ everyMs: 6 * 3_600_000, keep: 3, dir: join(dir, "archives") });
    writeFileSync(file, spec("backup: { every: 6h }"));
    expect(loadSpec(file).backup).toEqual({ everyMs: 6 * 3_600_000, keep: 14 });
    writeFileSync(file, spec("backup: { every: 0s }"));
    expect(codeOf(() => loadSpec(file))).toMatch(/backup\.every: a duration of at least 1s/);
    writeFileSync(file, spec("backup: { every: 6h, kep: 3 }"));
    expect(codeOf(() => loadSpec(file))).toMatch(/backup: unknown key "kep"/);
  });
});

describe("scheduled backups on a real daemon", () => {
  let t: TestEdge;
  const daemons: Daemon[] = [];
  beforeAll(async () => {
    t = await startTestEdge({ regions: ["eu"] });
  }, 60_000);
  afterAll(async () => {
    for (const d of daemons) await d.close();
    await t?.dispose();
  });

  async function start(yaml: string, backupFlags?: { every?: string; keep?: string; dir?: string }) {
    const dir = await makeTempDir("backup-daemon");
    writeFileSync(join(dir, "orchestrator.yaml"), yaml);
    writeFileSync(join(dir, "hello.js"), "export default { fetch: () => new Response('hi') };\n");
    const d = await startDaemonIn(dir, t.edge, backupFlags ? { backupFlags } : {});
    daemons.push(d);
    return { d, dir };
  }
  const backupsOf = (d: Daemon) => d.security.audit.search({ action: "backup.create", outcome: "ok", limit: 1000 });

  it("backup: { every: 1s, keep: 2 } runs on its own, keeps the newest 2, each on the audit record", async () => {
    const { d, dir } = await start(spec("backup: { every: 1s, keep: 2, dir: archives }"));
    await until(() => backupsOf(d).length >= 3);
    const archives = listArchives(join(dir, "archives"));
    expect(archives.length).toBe(2);
    expect(backupsOf(d).at(-1)!.details).toMatchObject({ pruned: 1 });
    // The newest archive is the last one recorded.
    expect(backupsOf(d).at(-1)!.target).toBe(`backup:${archives.at(-1)!.split("/").pop()}`);
  });

  it("the flags win: --backup-keep 1 --backup-dir elsewhere over the file's keep and dir", async () => {
    const elsewhere = join(await makeTempDir("backup-flags"), "b");
    mkdirSync(elsewhere);
    const { d, dir } = await start(spec("backup: { every: 1h, keep: 5, dir: archives }"), { every: "1s", keep: "1", dir: elsewhere });
    await until(() => backupsOf(d).length >= 2);
    expect(listArchives(elsewhere).length).toBe(1);
    expect(readdirSync(dir)).not.toContain("archives");
  });
});
