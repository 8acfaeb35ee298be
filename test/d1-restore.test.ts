// Issue 14, acceptance 4, with a real daemon on a real three-region local edge and the real `cbo`
// command: `cbo d1 restore DB --target eu --to-release R` restores the Time Travel bookmark release
// R took before its migration there. Without confirmation nothing happens (and it says how many
// minutes of writes would be lost); with --yes the earlier rows are back (read through the
// Worker), only on that target; the audit log names who did it; the next plan shows the undone
// migration pending again there, and releasing the same code applies it again. The API (428
// without confirm) and the MCP `d1_restore` tool (its preview unconfirmed) are checked too.
import { rmSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDaemonClient } from "../src/client/index.ts";
import type { Daemon } from "../src/daemon.ts";
import { d1Restore as d1RestoreTool } from "../src/mcp/tools-d1.ts";
import { startDaemonIn } from "./support/daemon-rig.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { httpGet } from "./support/http.ts";
import { runCbo } from "./support/run-cbo.ts";

const SPEC = `
targets:
  - { name: eu, api: local }
  - { name: us, api: local }
  - { name: ap, api: local }
rollout:
  waves: [[eu], [us, ap]]
  steps: [100]
  gate: { probe_path: /health, bake_ms: 50, min_samples: 2, interval_ms: 20 }
workers:
  - name: notes
    main: notes.js
    d1: { DB: { name: notes, migrations_dir: migrations } }
`;
const WORKER = (tag: string) => `
export default {
  async fetch(req, env) {
    if (new URL(req.url).pathname === "/health") return new Response("ok");
    const { results } = await env.DB.prepare("SELECT id FROM notes ORDER BY id").all();
    return Response.json({ v: ${JSON.stringify(tag)}, ids: results.map((r) => r.id) });
  },
};
`;

describe("cbo d1 restore to a release's bookmark", () => {
  let t: TestEdge;
  let dir: string;
  let d: Daemon;
  let token: string;
  let r2: string;
  const client = () => createDaemonClient({ url: d.url, token });
  const ids = async (region: string) =>
    (JSON.parse((await httpGet(t.edge.region(region).port, "notes.localhost", { path: "/" })).body) as { ids: number[] }).ids;
  const release = async (tag: string) => {
    writeFileSync(join(dir, "notes.js"), WORKER(tag));
    const started = await client().release("notes");
    for (;;) {
      const r = (await client().getRelease(started.id)).release;
      if (!["running", "rolling_back"].includes(r.status)) return r;
      await new Promise((res) => setTimeout(res, 50));
    }
  };

  beforeAll(async () => {
    t = await startTestEdge({ regions: ["eu", "us", "ap"] });
    dir = await makeTempDir("d1-restore");
    writeFileSync(join(dir, "orchestrator.yaml"), SPEC);
    mkdirSync(join(dir, "migrations"));
    writeFileSync(
      join(dir, "migrations/0001_notes.sql"),
      "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);\nINSERT INTO notes VALUES (1, 'first'), (2, 'second');\n",
    );
    d = await startDaemonIn(dir, t.edge);
    const created = await fetch(new URL("/v1/tokens", d.url), {
      method: "POST",
      headers: { authorization: `Bearer ${d.initialAdminToken!}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "oncall", role: "deployer" }),
    });
    token = ((await created.json()) as { token: string }).token;
    expect((await release("r1")).status).toBe("succeeded");
    // A data migration: row 2 goes, row 3 comes.
    writeFileSync(join(dir, "migrations/0002_cleanup.sql"), "DELETE FROM notes WHERE id = 2;\nINSERT INTO notes VALUES (3, 'third');\n");
    const second = await release("r2");
    expect(second.status, second.reason ?? "").toBe("succeeded");
    r2 = second.id;
    for (const region of ["eu", "us", "ap"]) expect(await ids(region)).toEqual([1, 3]);
  }, 180_000);
  afterAll(async () => {
    await d?.close();
    await t?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("without confirmation: says what is lost and restores nothing", async () => {
    const r = await runCbo(["d1", "restore", "DB", "--target", "eu", "--to-release", r2, "--url", d.url], { env: { CBO_TOKEN: token } });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`Restore D1 notes (DB of notes) on eu to the bookmark taken before release ${r2}`);
    expect(r.stderr).toMatch(/about \d+ minute\(s\) of writes since then will be lost, and the schema loses 0002_cleanup\.sql/);
    expect(r.stderr).toMatch(/ERR_CONFIRMATION_REQUIRED/);
    // The API without confirm: 428, the same sentence.
    const api = await fetch(new URL("/v1/d1/restore", d.url), {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ binding: "DB", target: "eu", release: r2 }),
    });
    expect(api.status).toBe(428);
    expect(((await api.json()) as { error: { message: string } }).error.message).toMatch(/minute\(s\) of writes since then will be lost/);
    // The MCP tool unconfirmed: what it would do, nothing done.
    const mcp = await d1RestoreTool.run({ binding: "DB", target: "eu", release: r2 }, { api: client().via("mcp:d1_restore") });
    expect(mcp.kind).toBe("needs_confirmation");
    expect((mcp as { wouldDo: string }).wouldDo).toContain(`to the bookmark taken before release ${r2}`);
    expect(await ids("eu")).toEqual([1, 3]);
    // Refusals are audited as such (outcome failed); nothing was restored.
    expect(d.security.audit.search({ action: "d1.restore", limit: 10 }).filter((e) => e.outcome === "ok")).toEqual([]);
  });

  it("an unknown release: says where the releases are, naming only commands that exist", async () => {
    const r = await runCbo(["d1", "restore", "DB", "--target", "eu", "--to-release", "nosuch", "--url", d.url, "--yes"], {
      env: { CBO_TOKEN: token },
    });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain("error ERR_NOT_FOUND: No release nosuch.");
    expect(r.stderr).toContain("hint: The releases that migrated a D1 database are on the dashboard's D1 page");
    expect(r.stderr).toContain("`npx cbo versions <worker>` names the release of each version");
  });

  it("with --yes: the earlier rows are back on that target only, audited with who did it", { timeout: 60_000 }, async () => {
    const r = await runCbo(["d1", "restore", "DB", "--target", "eu", "--to-release", r2, "--yes", "--url", d.url], {
      env: { CBO_TOKEN: token },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^restored D1 notes on eu to /);
    // The undo hint runs as printed: wrangler's restore takes the database's name first.
    expect(r.stdout).toMatch(/; to undo: wrangler d1 time-travel restore notes --bookmark \S+\n$/);
    expect(await ids("eu")).toEqual([1, 2]);
    expect(await ids("us")).toEqual([1, 3]);
    const audit = d.security.audit.search({ action: "d1.restore", limit: 10 }).filter((e) => e.outcome === "ok");
    expect(audit.map((e) => e.details.stage)).toEqual(["requested", "restored"]);
    // The way back is on the record before the restore is sent (a daemon killed mid-restore keeps it).
    expect(audit[0]!.details.undoBookmark).toMatch(/^[0-9a-f]{8}-[0-9a-f]{8}-/);
    for (const e of audit) {
      expect(e.actor).toMatch(/^token:oncall:/);
      expect(e.target).toBe("d1:eu/DB");
      expect(e.details).toMatchObject({ release: r2, worker: "notes", database: "notes" });
    }
    // The migration it undid is pending again there, and only there.
    const plan = await client().plan("notes");
    expect(plan.targets.find((x) => x.name === "eu")!.d1Migrations).toEqual([
      { binding: "DB", database: "notes", pending: ["0002_cleanup.sql"] },
    ]);
    expect(plan.targets.find((x) => x.name === "us")!.d1Migrations).toEqual([]);
    // cbo diff says so too (it said "a release would change nothing" while the release had work).
    const diff = await client().diff("notes");
    expect(diff.changed).toBe(true);
    expect(diff.targets.find((x) => x.target === "eu")!.changes).toEqual([
      { area: "migrations", item: "D1 notes 0002_cleanup.sql", change: "added", desired: "pending" },
    ]);
    expect(diff.targets.find((x) => x.target === "us")!.changes).toEqual([]);
    // The same code released again is not a no-op: the pending migration is work, applied again on eu only.
    const again = await release("r2");
    expect(again.status, again.reason ?? "").toBe("succeeded");
    expect(await ids("eu")).toEqual([1, 3]);
    const entries = (await client().getRelease(again.id)).journal;
    expect(entries.filter((e) => e.kind === "d1.applied").map((e) => [e.target, e.data.name])).toEqual([["eu", "0002_cleanup.sql"]]);
  });
});
