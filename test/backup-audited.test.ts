// `cbo backup` while a daemon runs is on the audit record: the real binary finds the daemon through
// <data>/daemon.json, and the daemon (POST /v1/backups, admin) writes the archive and records
// backup.create, fail closed. Checked on a real daemon with real files:
//   - the CLI says the daemon wrote it and that it is on the record; --json says audited: true;
//     --dir/--keep prune through the daemon too; a viewer token is refused;
//   - an archive whose audit entry cannot be written is removed again, and the request fails (503);
//   - the daemon's scheduled backups seal with the key it holds after an online rotation;
//   - with the daemon stopped (its daemon.json left behind), the CLI reads the files itself and says
//     that this backup is not on the record; an explicit --url where nothing answers is an error.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listArchives, readArchiveHeader } from "../src/backup/index.ts";
import { startDaemon, type Daemon } from "../src/daemon.ts";
import { generateKeyFile } from "../src/vault/index.ts";
import { runCbo, type CboRun } from "./support/run-cbo.ts";
import { UNREACHABLE_EDGE as EDGE } from "./support/daemon-rig.ts";

const SPEC = "version: 1\ntargets:\n  - { name: eu, api: local }\nworkers: []\n";

describe("cbo backup through a running daemon", () => {
  let root: string;
  let data: string;
  let keyFile: string;
  let d: Daemon | undefined;
  const cbo = (args: string[], env: Record<string, string> = {}): Promise<CboRun> =>
    runCbo([...args, "--data", data], { cwd: root, env, timeoutMs: 60_000 });
  const backups = () => d!.security.audit.search({ action: "backup.create", limit: 100 });

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "cbo-backup-audited-"));
    data = join(root, "data");
    keyFile = join(root, "master.key");
    writeFileSync(join(root, "orchestrator.yaml"), SPEC);
    generateKeyFile(keyFile);
    d = await startDaemon({
      dataDir: data,
      configFile: join(root, "orchestrator.yaml"),
      edge: EDGE,
      masterKeyFile: keyFile,
      env: {},
      monitorIntervalMs: 60_000,
      log: () => {},
      // A schedule that runs often, to see which key it seals with after a rotation.
      // The CLI's backups go to the same directory by default (the daemon's backup directory).
      backup: { everyMs: 250, keep: 1000, dir: join(root, "scheduled") },
    });
    const res = await fetch(`${d.url}/v1/secrets/ONE`, {
      method: "PUT",
      headers: { authorization: `Bearer ${d.initialAdminToken}`, "content-type": "application/json" },
      body: JSON.stringify({ value: "backup-audited-value" }),
    });
    expect(res.status).toBe(200);
  });
  afterAll(async () => {
    await d?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it("the daemon writes the archive and records backup.create; the CLI says so", async () => {
    const r = await cbo(["backup"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const file = r.stdout.split("\n")[0]!.replace(/^backup written: (.*) \(\d+ bytes\)$/, "$1");
    expect(file).toMatch(new RegExp(`^${root}/scheduled/cbo-backup-\\d{8}T\\d{9}Z-[0-9a-f]{6}\\.cbobak$`));
    expect(existsSync(file)).toBe(true);
    expect(r.stdout).toContain(`written by the daemon at ${d!.url}; on the audit record as backup.create`);
    expect(r.stdout).toContain(`sealed with master key ${d!.masterKey.id}`);
    const entry = backups().find((e) => e.details.file === file);
    expect(entry).toMatchObject({
      actor: expect.stringMatching(/^token:initial admin:/),
      target: `backup:${basename(file)}`,
      outcome: "ok",
      details: { file, masterKeyId: d!.masterKey.id, via: "api" },
    });
    expect(readArchiveHeader(file).master_key_id).toBe(d!.masterKey.id);
  });

  it("--out (resolved where the CLI runs) and --json; --dir with --keep prunes through the daemon", async () => {
    const j = JSON.parse((await cbo(["backup", "--out", "one.cbobak", "--json", "--master-key-file", keyFile])).stdout) as {
      file: string;
      audited: boolean;
      daemon: string;
    };
    expect(j).toMatchObject({ file: join(root, "one.cbobak"), audited: true, daemon: d!.url });
    const dir = join(root, "kept");
    for (let i = 0; i < 3; i++) expect((await cbo(["backup", "--dir", dir, "--keep", "2"])).code).toBe(0);
    expect(listArchives(dir)).toHaveLength(2);
    expect(backups().filter((e) => String(e.details.file).startsWith(dir))).toHaveLength(3);
  });

  it("refuses a viewer token, and a backup whose entry cannot be written is not kept", async () => {
    const res = await fetch(`${d!.url}/v1/tokens`, {
      method: "POST",
      headers: { authorization: `Bearer ${d!.initialAdminToken}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "v", role: "viewer" }),
    });
    const viewer = ((await res.json()) as { token: string }).token;
    const denied = await cbo(["backup"], { CBO_TOKEN: viewer });
    expect([denied.code, denied.stderr.split("\n")[0]]).toEqual([1, expect.stringMatching(/^error ERR_FORBIDDEN: /)]);
    // The audit log refuses backup.create entries (a trigger on the daemon's own connection).
    const dir = join(root, "refused");
    d!.store.db.exec(
      "CREATE TEMP TRIGGER refuse_backup_audit BEFORE INSERT ON audit_entries WHEN NEW.action = 'backup.create' AND NEW.outcome = 'ok' BEGIN SELECT RAISE(ABORT, 'planted'); END",
    );
    try {
      const r = await cbo(["backup", "--dir", dir]);
      expect([r.code, r.stderr.split("\n")[0]]).toEqual([
        2,
        "error ERR_AUDIT_UNAVAILABLE: The audit log could not be written, so the change was refused.",
      ]);
    } finally {
      d!.store.db.exec("DROP TRIGGER refuse_backup_audit");
    }
    expect(existsSync(dir) ? readdirSync(dir).filter((n) => !n.startsWith(".")) : []).toEqual([]);
  });

  it("scheduled backups seal with the key the daemon holds after an online rotation", async () => {
    const rotated = await fetch(`${d!.url}/v1/vault/rotate-master-key`, {
      method: "POST",
      headers: { authorization: `Bearer ${d!.initialAdminToken}`, "content-type": "application/json" },
      body: "{}",
    });
    expect(rotated.status).toBe(200);
    const { toKeyId } = (await rotated.json()) as { toKeyId: string };
    // Wait for a scheduled archive sealed after the rotation (the schedule runs every 250 ms).
    let sealedWithNew: string | undefined;
    for (let i = 0; i < 200 && !sealedWithNew; i++) {
      sealedWithNew = listArchives(join(root, "scheduled")).find((f) => readArchiveHeader(f).master_key_id === toKeyId);
      if (!sealedWithNew) await new Promise((r) => setTimeout(r, 50));
    }
    expect(sealedWithNew).toBeDefined();
    expect(backups().some((e) => e.actor === "daemon" && e.outcome === "ok" && e.details.masterKeyId === toKeyId)).toBe(true);
    const viaCli = await cbo(["backup", "--json"]);
    expect(JSON.parse(viaCli.stdout)).toMatchObject({ masterKeyId: toKeyId, audited: true });
  });

  it("with the daemon stopped, the CLI reads the files and says the backup is not on the record", async () => {
    await d!.close();
    const head = () => {
      const db = new DatabaseSync(join(data, "orchestrator.sqlite"), { readOnly: true });
      try {
        return Number((db.prepare("SELECT max(seq) AS n FROM audit_entries").get() as { n: number }).n);
      } finally {
        db.close();
      }
    };
    const before = head();
    expect(existsSync(join(data, "daemon.json"))).toBe(true); // left behind: nothing answers there now
    const r = await cbo(["backup", "--master-key-file", keyFile]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`not on the audit record: no daemon runs on ${data}`);
    const j = JSON.parse((await cbo(["backup", "--master-key-file", keyFile, "--json"])).stdout) as { audited: boolean };
    expect(j.audited).toBe(false);
    expect(head()).toBe(before); // reading the files changed nothing in them
    const url = JSON.parse(readFileSync(join(data, "daemon.json"), "utf8")) as { url: string };
    const explicit = await cbo(["backup", "--url", url.url, "--master-key-file", keyFile]);
    expect([explicit.code, explicit.stderr.split("\n")[0]]).toEqual([2, `error ERR_IO: The daemon at ${url.url} is not answering.`]);
  });
});
