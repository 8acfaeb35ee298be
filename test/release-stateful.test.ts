// Issue 14 (stateful releases), acceptance 1-3, on a real three-region local edge: D1 migrations
// are phases of a canary release. 1: an expand migration is bookmarked and applied in each target
// before its first step, the new code serves, and real `wrangler d1 migrations list --remote`
// agrees nothing is pending. 2: a syntax error in the second file stops the canary target before
// any traffic shift, names the file and statement, leaves the other targets untouched, and the
// release record holds the bookmark. 3: a canary whose gate fails after its expand migration rolls
// the code back, keeps the schema, never runs the contract migration, and the next plan shows it
// pending; a healthy release then runs it only after the last gate.
import { mkdir, rm, writeFile } from "node:fs/promises";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseSpec, resolveSpec, type ResolvedSpec } from "../src/config/load.ts";
import { createEngine } from "../src/deploy/index.ts";
import { d1Replay } from "../src/deploy/journal.ts";
import type { Engine } from "../src/deploy/types.ts";
import { createStore, type JournalEntry, type Release, type Store } from "../src/store/index.ts";
import type { TargetRuntime } from "../src/targets/types.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { httpGet } from "./support/http.ts";
import { edgeInfo, liveOf, localRuntimes } from "./support/orchestrator.ts";
import { createWranglerProject, describeRun } from "./support/wrangler.ts";

const REGIONS = ["eu", "us", "ap"];
const GATE = {
  probe_path: "/health",
  interval_ms: 30,
  bake_ms: 150,
  min_samples: 3,
  failure_limit: 2,
  max_error_rate: 0.05,
  timeout_ms: 3000,
};

/** The notes Worker: `tag` says which code serves; `columns` which columns its query needs; `healthy` false fails /health. */
const NOTES = (tag: string, columns: string, healthy = true) => `
export default {
  async fetch(req, env) {
    const url = new URL(req.url);
    if (url.pathname === "/health") return new Response(${healthy} ? "ok" : "broken", { status: ${healthy} ? 200 : 500 });
    if (url.pathname === "/notes") {
      const { results } = await env.DB.prepare("SELECT ${columns} FROM notes ORDER BY id").all();
      return Response.json({ v: ${JSON.stringify(tag)}, notes: results });
    }
    return Response.json({ v: ${JSON.stringify(tag)} });
  },
};
`;

describe("D1 migrations as phases of a canary release (three targets)", () => {
  let t: TestEdge;
  let dir: string;
  let store: Store;
  let spec: ResolvedSpec;
  let runtimes: Map<string, TargetRuntime>;
  let engine: Engine;
  const port = (region: string) => t.edge.region(region).port;
  const notes = async (region: string) => {
    const r = await httpGet(port(region), "notes.localhost", { path: "/notes" });
    return {
      status: r.status,
      body: r.status === 200 ? (JSON.parse(r.body) as { v: string; notes: Array<Record<string, unknown>> }) : r.body,
    };
  };
  const write = async (rel: string, text: string) => {
    await mkdir(join(dir, rel, ".."), { recursive: true });
    await writeFile(join(dir, rel), text);
  };
  const release = async (): Promise<Release> => engine.wait((await engine.release("notes", { by: "test" })).id);
  const journal = (id: string): JournalEntry[] => store.releases.entries(id);
  const dbId = (target: string) => store.resources.list("default", target).find((r) => r.kind === "d1" && r.name === "notes")!.resource_id;
  const applied = async (target: string) => (await runtimes.get(target)!.client.listAppliedD1Migrations(dbId(target))).slice();

  beforeAll(async () => {
    t = await startTestEdge({ regions: REGIONS });
    dir = await makeTempDir("stateful");
    await write("notes.js", NOTES("v1", "id, body"));
    await write(
      "migrations/0001_notes.sql",
      "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);\nINSERT INTO notes VALUES (1, 'first');\n",
    );
    const yaml = [
      "targets:",
      "  - { name: eu, api: local }",
      "  - { name: us, api: local }",
      "  - { name: ap, api: local }",
      "rollout:",
      "  waves: [[eu], [us, ap]]",
      "  steps: [50, 100]",
      `  gate: ${JSON.stringify(GATE)}`,
      "workers:",
      "  - name: notes",
      "    main: notes.js",
      '    compatibility_date: "2025-01-01"',
      "    d1: { DB: { name: notes, migrations_dir: migrations } }",
    ].join("\n");
    await writeFile(join(dir, "orchestrator.yaml"), yaml);
    spec = resolveSpec(parseSpec(yaml, join(dir, "orchestrator.yaml")), join(dir, "orchestrator.yaml"));
    runtimes = localRuntimes(edgeInfo(t.edge), spec);
    store = createStore(join(dir, "state.db"));
    engine = createEngine({ store, spec: () => spec, targets: () => runtimes });
    const first = await release();
    expect(first.status, first.reason ?? "").toBe("succeeded");
  }, 120_000);
  afterAll(async () => {
    await engine?.close();
    store?.close();
    await t?.dispose();
  });

  it("1: an expand migration is bookmarked and applied in each target before its first step; wrangler agrees nothing is pending", {
    timeout: 180_000,
  }, async () => {
    await write("migrations/0002_tags.sql", "ALTER TABLE notes ADD COLUMN tag TEXT;\nUPDATE notes SET tag = 'general';\n");
    await write("notes.js", NOTES("v2", "id, body, tag"));
    const p = await engine.plan("notes");
    for (const target of p.targets) {
      expect(target.d1Migrations).toEqual([{ binding: "DB", database: "notes", pending: ["0002_tags.sql"] }]);
      expect(target.phases?.map((x) => x.phase)).toEqual(["read", "d1-migrations", "upload", "steps"]);
    }
    const r = await release();
    expect(r.status, r.reason ?? "").toBe("succeeded");
    const entries = journal(r.id);
    for (const target of REGIONS) {
      const mine = entries.filter((e) => e.target === target);
      const at = (kind: string, pred: (d: Record<string, unknown>) => boolean = () => true) =>
        mine.findIndex((e) => e.kind === kind && pred(e.data));
      // Bookmark first, then the file (intent, applied), all before the first step.
      const intent = at("phase.intent", (d) => d.phase === "d1-migrations");
      expect(mine[intent]!.data.bookmark).toMatch(/^[0-9a-f]{8}-/);
      expect(at("d1.intent", (d) => d.name === "0002_tags.sql")).toBeGreaterThan(intent);
      expect(at("d1.applied", (d) => d.name === "0002_tags.sql")).toBeGreaterThan(at("d1.intent"));
      expect(at("step.intent")).toBeGreaterThan(at("d1.applied"));
      expect(await applied(target)).toEqual(["0001_notes.sql", "0002_tags.sql"]);
      expect(await notes(target)).toEqual({ status: 200, body: { v: "v2", notes: [{ id: 1, body: "first", tag: "general" }] } });
    }
    expect(d1Replay(entries).map((d) => [d.target, d.bookmark !== null, d.applied])).toEqual([
      ["eu", true, ["0002_tags.sql"]],
      ["us", true, ["0002_tags.sql"]],
      ["ap", true, ["0002_tags.sql"]],
    ]);
    // Real wrangler, pointed at each region's account with that region's database id.
    for (const target of REGIONS) {
      const region = t.edge.region(target);
      const project = await createWranglerProject(join(dir, `wrangler-${target}`), t.edge, region.accountId);
      await project.writeConfig({
        name: "notes",
        main: "src/index.js",
        compatibility_date: "2025-01-01",
        d1_databases: [{ binding: "DB", database_name: "notes", database_id: dbId(target), migrations_dir: "../migrations" }],
      });
      const list = await project.ok(["d1", "migrations", "list", "DB", "--remote"]);
      expect(list.stdout, describeRun(list)).toMatch(/No migrations to apply/);
    }
  });

  it("2: a syntax error in the second file stops the canary before any shift; the others are untouched; the record holds the bookmark", {
    timeout: 120_000,
  }, async () => {
    const before = await Promise.all(REGIONS.map((x) => liveOf(runtimes.get(x)!, "notes")));
    await write("migrations/0003_index.sql", "CREATE INDEX notes_by_tag ON notes (tag);\n");
    await write("migrations/0004_broken.sql", "CREATE TABLE labels (id INTEGER PRIMARY KEY);\nCREAT TABLE oops (id INTEGER);\n");
    await write("notes.js", NOTES("v3", "id, body, tag"));
    const r = await release();
    expect(r.status).toBe("rolled_back");
    expect(r.reason).toContain("0004_broken.sql");
    expect(r.reason).toContain("statement 2 (CREAT TABLE oops (id INTEGER))");
    expect(r.reason).toMatch(/ERR_D1_MIGRATION/);
    const entries = journal(r.id);
    // eu: the first file applied, the second failed, nothing uploaded or deployed.
    expect(entries.filter((e) => e.target === "eu").map((e) => e.kind)).toEqual([
      "phase.intent",
      "d1.intent",
      "d1.applied",
      "d1.intent",
      "d1.failed",
      "target.failed",
    ]);
    expect(entries.find((e) => e.kind === "d1.failed")!.data).toMatchObject({
      name: "0004_broken.sql",
      statement: "CREAT TABLE oops (id INTEGER)",
    });
    expect(d1Replay(entries)).toEqual([
      expect.objectContaining({
        target: "eu",
        database: "notes",
        bookmark: expect.stringMatching(/^[0-9a-f]{8}-/),
        applied: ["0003_index.sql"],
      }),
    ]);
    // us and ap: never reached.
    expect(entries.filter((e) => e.target === "us" || e.target === "ap")).toEqual([]);
    expect(await applied("eu")).toEqual(["0001_notes.sql", "0002_tags.sql", "0003_index.sql"]);
    expect(await applied("us")).toEqual(["0001_notes.sql", "0002_tags.sql"]);
    expect(await applied("ap")).toEqual(["0001_notes.sql", "0002_tags.sql"]);
    // No table from the failed file (its transaction), no traffic moved anywhere.
    expect(await Promise.all(REGIONS.map((x) => liveOf(runtimes.get(x)!, "notes")))).toEqual(before);
    for (const target of REGIONS) expect((await notes(target)).body).toMatchObject({ v: "v2" });
    await rm(join(dir, "migrations/0004_broken.sql"));
  });

  it("3: a canary failing its gate after its expand migration: code back, schema stays, the contract never runs and stays pending", {
    timeout: 180_000,
  }, async () => {
    await write("migrations/0005_title.sql", "ALTER TABLE notes ADD COLUMN title TEXT;\nUPDATE notes SET title = body;\n");
    await write("migrations/0006_drop_body.sql", "-- cbo:contract\nALTER TABLE notes DROP COLUMN body;\n");
    await write("notes.js", NOTES("v4", "id, title, tag", false));
    const p = await engine.plan("notes");
    const eu = p.targets.find((x) => x.name === "eu")!;
    expect(eu.d1Migrations).toEqual([{ binding: "DB", database: "notes", pending: ["0005_title.sql"] }]);
    // With the file's content hash: recovery runs a contract file only while it is still what was planned.
    const dropBody = createHash("sha256").update("-- cbo:contract\nALTER TABLE notes DROP COLUMN body;\n").digest("hex");
    expect(eu.d1Contract).toEqual([
      { binding: "DB", database: "notes", pending: ["0006_drop_body.sql"], sha256: { "0006_drop_body.sql": dropBody } },
    ]);
    expect(eu.phases?.map((x) => x.phase)).toEqual(["read", "d1-migrations", "upload", "steps", "d1-contract"]);
    const r = await release();
    expect(r.status, r.reason ?? "").toBe("rolled_back");
    expect(r.reason).toMatch(/gate failed on eu/);
    const entries = journal(r.id);
    expect(entries.some((e) => e.kind === "phase.intent" && e.data.phase === "d1-contract")).toBe(false);
    expect(await applied("eu")).toEqual(["0001_notes.sql", "0002_tags.sql", "0003_index.sql", "0005_title.sql"]);
    expect((await notes("eu")).body).toMatchObject({ v: "v2", notes: [{ id: 1, body: "first", tag: "general" }] });
    const next = await engine.plan("notes");
    expect(next.targets.find((x) => x.name === "eu")!.d1Contract).toEqual([
      { binding: "DB", database: "notes", pending: ["0006_drop_body.sql"], sha256: { "0006_drop_body.sql": dropBody } },
    ]);
    expect(next.targets.find((x) => x.name === "us")!.d1Migrations).toEqual([
      { binding: "DB", database: "notes", pending: ["0003_index.sql", "0005_title.sql"] },
    ]);

    // Healthy code: the contract phase runs, only after every target passed its last gate.
    await write("notes.js", NOTES("v5", "id, title, tag"));
    const ok = await release();
    expect(ok.status, ok.reason ?? "").toBe("succeeded");
    const done = journal(ok.id);
    const lastGate = Math.max(...done.filter((e) => e.kind === "gate.passed" && e.data.percent === 100).map((e) => e.seq));
    const contract = done.filter((e) => e.kind === "phase.intent" && e.data.phase === "d1-contract");
    expect(contract.map((e) => e.target)).toEqual(["eu", "us", "ap"]);
    expect(Math.min(...contract.map((e) => e.seq))).toBeGreaterThan(lastGate);
    for (const target of REGIONS) {
      expect((await applied(target)).at(-1)).toBe("0006_drop_body.sql");
      expect((await notes(target)).body).toEqual({ v: "v5", notes: [{ id: 1, title: "first", tag: "general" }] });
    }
  });

  it("a rollback to code from before a migration warns that the schema stays; one marked breaks-rollback needs --force", {
    timeout: 120_000,
  }, async () => {
    const before = store.releases.list({ worker: "notes", limit: 100 }).find((r) => r.kind === "release" && r.status === "succeeded")!;
    await write("migrations/0007_strict.sql", "-- cbo:breaks-rollback\nCREATE TABLE audit_trail (id INTEGER PRIMARY KEY);\n");
    await write("notes.js", NOTES("v6", "id, title, tag"));
    const r = await release();
    expect(r.status, r.reason ?? "").toBe("succeeded");
    const p = await engine.previewRollback("notes");
    expect(p.resolved).toContain(`release ${before.id} shipped`);
    expect(p.needs).toEqual({ confirmSecretDowngrade: false, force: true });
    for (const target of REGIONS) {
      const x = p.targets.find((y) => y.name === target)!;
      expect(x.newerMigrations).toEqual([{ database: "notes", files: ["0007_strict.sql"], release: r.id }]);
      expect(x.breaksRollback).toEqual(["0007_strict.sql"]);
      expect(p.warnings).toContain(
        `${target}: the schema of D1 notes stays as it is: 0007_strict.sql (applied by release ${r.id}) is newer than ${x.to}; D1 migrations only go forward (cbo d1 restore is the explicit way back)`,
      );
    }
    const count = store.releases.list({ worker: "notes", limit: 100 }).length;
    const refused = (await engine.rollback("notes").then(
      () => ({}),
      (e: unknown) => e,
    )) as { code?: string; message?: string };
    expect(refused).toMatchObject({ code: "ERR_CONFIRMATION_REQUIRED" });
    expect(refused.message).toContain("0007_strict.sql is marked -- cbo:breaks-rollback");
    expect(store.releases.list({ worker: "notes", limit: 100 })).toHaveLength(count);
    for (const target of REGIONS) expect((await notes(target)).body).toMatchObject({ v: "v6" });
    const forced = await engine.wait((await engine.rollback("notes", { force: true })).id);
    expect(forced.status, forced.reason ?? "").toBe("succeeded");
    for (const target of REGIONS) {
      expect((await notes(target)).body).toMatchObject({ v: "v5" });
      expect((await applied(target)).at(-1)).toBe("0007_strict.sql");
    }
  });

  it("a failing contract migration leaves every target on the new code and fails the release, naming the file", {
    timeout: 120_000,
  }, async () => {
    await write("migrations/0008_drop_missing.sql", "-- cbo:contract\nDROP TABLE no_such_table;\n");
    await write("notes.js", NOTES("v7", "id, title, tag"));
    const r = await release();
    expect(r.status).toBe("failed");
    expect(r.reason).toContain("every target serves the new version at 100%, but the contract phase failed on eu (0008_drop_missing.sql)");
    expect(r.reason).toContain("at statement 1 (DROP TABLE no_such_table)");
    // Stopped at the first target: the others were not tried; the code stays new everywhere.
    const entries = journal(r.id);
    expect(entries.filter((e) => e.kind === "phase.intent" && e.data.phase === "d1-contract").map((e) => e.target)).toEqual(["eu"]);
    for (const target of REGIONS) {
      expect((await notes(target)).body).toMatchObject({ v: "v7" });
      expect(await applied(target)).not.toContain("0008_drop_missing.sql");
    }
    await rm(join(dir, "migrations/0008_drop_missing.sql"));
  });
});
