// The local edge on a disk that fills (a real tmpfs, test/support/tmpfs.ts; mounting needs root,
// which CI has). Writes through its Cloudflare API (KV, R2, D1, a Worker upload, a D1 restore)
// answer 507 code 10507 naming the directory to free, not "internal error" (D1 SQL answers D1's
// own 7500 with SQLite's SQLITE_FULL); reads keep working
// (a D1 SELECT too, whose usage counts cannot be stored); nothing half-written stays behind; once
// there is room the same writes succeed without a restart. And a D1 commit whose Time Travel
// entry could not be stored is not lost from the history: the next entry carries its pages.
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openHistory } from "../src/local-edge/d1/history.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { edgeApi, type EdgeApi } from "./support/edge-api.ts";
import { fill, freeUp, mountTmpfs, unmount } from "./support/tmpfs.ts";

const FULL = {
  code: 10507,
  message: expect.stringMatching(
    /^The local edge's disk is full \(.*\/edge, .* free\); nothing was written\. Free space on that disk and retry\.$/,
  ),
};

describe("the local edge on a full disk", () => {
  let dir: string;
  let disk: string;
  let t: TestEdge;
  let api: EdgeApi;
  let ns: string;
  let d1: string;

  beforeAll(async () => {
    dir = await makeTempDir("edge-disk-full");
    disk = join(dir, "disk");
    mountTmpfs(disk, 64 * 1024 * 1024);
    t = await startTestEdge({ dataDir: join(disk, "edge") });
    api = edgeApi(t.edge, t.region);
    ns = (await api.ok<{ id: string }>("POST", "/storage/kv/namespaces", { title: "n" })).id;
    await api.ok("POST", "/r2/buckets", { name: "bkt" });
    d1 = (await api.ok<{ uuid: string }>("POST", "/d1/database", { name: "db" })).uuid;
    await api.ok("POST", `/d1/database/${d1}/query`, { sql: "CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('a')" });
  }, 60_000);
  afterAll(async () => {
    await t?.dispose().catch(() => {});
    if (disk) unmount(disk);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  // One connection per call: an answer sent before a large body is read closes its connection.
  const send = async (method: string, path: string, body?: string | Uint8Array) => {
    const res = await fetch(`${t.edge.apiUrl}/accounts/${t.region.accountId}${path}`, {
      method,
      headers: { authorization: `Bearer ${t.edge.token}`, connection: "close" },
      ...(body === undefined ? {} : { body }),
    });
    return { status: res.status, body: (await res.json()) as { success: boolean; errors: Array<{ code: number; message: string }> } };
  };
  const query = (sql: string) => api.call<Array<{ results: unknown[] }>>("POST", `/d1/database/${d1}/query`, { sql });
  const upload = () =>
    api.call(
      "PUT",
      "/workers/scripts/w",
      api.upload(
        { main_module: "w.js", compatibility_date: "2025-01-01" },
        { "w.js": "export default { fetch: () => new Response('ok') };" },
      ),
    );

  it("answers writes 507 (10507) naming the directory, keeps answering reads, leaves nothing half-written", async () => {
    const bookmark = (await api.ok<{ bookmark: string }>("GET", `/d1/database/${d1}/time_travel/bookmark`)).bookmark;
    expect((await query("INSERT INTO t VALUES ('b')")).success).toBe(true);
    fill(disk);

    const kv = await send("PUT", `/storage/kv/namespaces/${ns}/values/k`, "v");
    expect([kv.status, kv.body.errors]).toEqual([507, [FULL]]);
    expect(kv.body.errors[0]!.message).toContain(join(disk, "edge"));
    const r2 = await send("PUT", "/r2/buckets/bkt/objects/o", randomBytes(2 * 1024 * 1024));
    expect([r2.status, r2.body.errors]).toEqual([507, [FULL]]);
    const d1Write = await query("INSERT INTO t SELECT hex(randomblob(200000)) FROM t, t t2, t t3, t t4");
    // SQL that fails is D1's own error (7500, SQLite's words), as a Worker's binding sees it too.
    expect([d1Write.status, d1Write.errors]).toEqual([400, [{ code: 7500, message: "database or disk is full: SQLITE_FULL" }]]);
    const up = await upload();
    expect([up.status, up.errors]).toEqual([507, [FULL]]);
    const restore = await api.call("POST", `/d1/database/${d1}/time_travel/restore?bookmark=${bookmark}`);
    expect([restore.status, restore.errors]).toEqual([507, [FULL]]);

    // Reads still answer, and the database is as it was before the refused writes.
    expect((await api.call("GET", "/storage/kv/namespaces")).status).toBe(200);
    const count = await query("SELECT count(*) AS n FROM t");
    expect([count.status, count.result?.[0]?.results]).toEqual([200, [{ n: 2 }]]);
    // No object file, no restore image left on the full disk.
    const files = (d: string): string[] =>
      readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(d, e.name)) : [join(d, e.name)]));
    expect(files(join(disk, "edge")).filter((f) => /\/r2\/|\.restore$/.test(f))).toEqual([]);
    expect((await api.call("GET", "/workers/scripts")).result).toEqual([]);

    // Room again: the same writes succeed, without a restart.
    freeUp(disk, 32 * 1024 * 1024);
    expect((await send("PUT", `/storage/kv/namespaces/${ns}/values/k`, "v")).status).toBe(200);
    expect((await send("PUT", "/r2/buckets/bkt/objects/o", randomBytes(1024))).status).toBe(200);
    expect((await upload()).status).toBe(200);
    expect((await api.call("POST", `/d1/database/${d1}/time_travel/restore?bookmark=${bookmark}`)).status).toBe(200);
    expect((await query("SELECT count(*) AS n FROM t")).result?.[0]?.results).toEqual([{ n: 1 }]);
  });

  it("a D1 restore whose image cannot be written leaves the database open and as it was, and no partial image", async () => {
    expect((await query("INSERT INTO t SELECT hex(randomblob(400000)) FROM t")).status).toBe(200);
    const bookmark = (await api.ok<{ bookmark: string }>("GET", `/d1/database/${d1}/time_travel/bookmark`)).bookmark;
    const restore = () => api.call("POST", `/d1/database/${d1}/time_travel/restore?bookmark=${bookmark}`);
    // A restore first empties the wal: the next one has nothing to checkpoint and fails only at its image.
    expect((await restore()).status).toBe(200);
    fill(disk);
    const refused = await restore();
    expect([refused.status, refused.errors]).toEqual([507, [FULL]]);
    expect(readdirSync(join(disk, "edge", "d1", d1)).filter((f) => f.endsWith(".restore"))).toEqual([]);
    expect((await query("SELECT count(*) AS n FROM t")).result?.[0]?.results).toEqual([{ n: 2 }]);
    freeUp(disk, 32 * 1024 * 1024);
    expect((await restore()).status).toBe(200);
    expect((await query("SELECT count(*) AS n FROM t")).result?.[0]?.results).toEqual([{ n: 2 }]);
  });

  it("a D1 commit whose history entry could not be stored goes into the next entry", async () => {
    // The database off the small disk, its Time Travel history on it: the commit succeeds, the
    // history append fails, as when the disk fills between the two.
    const dbDir = join(dir, "d1");
    rmSync(join(disk, "filler"), { force: true });
    mkdirSync(dbDir, { recursive: true });
    const dbPath = join(dbDir, "db.sqlite");
    const db = new DatabaseSync(dbPath);
    db.exec("PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0; CREATE TABLE a (v TEXT); CREATE TABLE b (v TEXT);");
    const history = openHistory(join(disk, "history.sqlite"), `${dbPath}-wal`);
    expect(history.capture(Date.now())).toBeDefined();

    db.exec("INSERT INTO a VALUES ('only in the uncaptured commit')");
    fill(disk);
    expect(() => history.capture(Date.now())).toThrow(/database or disk is full/);
    freeUp(disk, 8 * 1024 * 1024);
    db.exec("INSERT INTO b VALUES ('next')"); // another page than a's
    const head = history.capture(Date.now())!;

    const image = join(dir, "image.sqlite");
    writeFileSync(image, history.image(head.seq));
    const replayed = new DatabaseSync(image, { readOnly: true });
    expect(replayed.prepare("SELECT (SELECT count(*) FROM a) AS a, (SELECT count(*) FROM b) AS b").get()).toEqual({ a: 1, b: 1 });
    replayed.close();
    history.close();
    db.close();
  });
});
