// Faults during `cbo d1 restore` (the engine's restoreD1, which the API, CLI and MCP call), on a
// real local edge with its own fault injection and a real engine and store:
//   1. the region out: ERR_CF_UNAVAILABLE, the data untouched, the same restore completes once it
//      answers;
//   2. the restore's answer lost after it landed (the region slower than the client's attempt
//      timeout): it is not sent again (a second restore would answer a previous_bookmark that
//      undoes nothing), the error says the outcome is unknown and names the bookmark from before,
//      and that bookmark does bring the overwritten writes back;
//   3. while it runs, a release of the same worker is refused naming the restore, and a restore
//      while a release runs is refused naming the release.
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCloudflareClient } from "../src/cloudflare/index.ts";
import { parseSpec, resolveSpec, type ResolvedSpec } from "../src/config/load.ts";
import { createEngine } from "../src/deploy/index.ts";
import type { Engine } from "../src/deploy/types.ts";
import { CboError } from "../src/kit/errors.ts";
import { createStore, type Release, type Store } from "../src/store/index.ts";
import type { TargetRuntime } from "../src/targets/types.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { httpGet } from "./support/http.ts";
import { edgeInfo, fleetYaml } from "./support/orchestrator.ts";
import { refusal } from "./support/refusal.ts";

const WORKER = "notes";
const YAML = fleetYaml({
  regions: ["eu"],
  steps: [100],
  gate: { probe_path: "/health", interval_ms: 30, bake_ms: 1500, min_samples: 2, failure_limit: 2, timeout_ms: 3000 },
  workers: [WORKER],
  perWorker: { [WORKER]: { d1: { DB: { name: "notes", migrations_dir: "migrations" } } } },
});
const SOURCE = `
export default {
  async fetch(req, env) {
    if (new URL(req.url).pathname === "/health") return new Response("ok");
    const { results } = await env.DB.prepare("SELECT id FROM notes ORDER BY id").all();
    return Response.json({ ids: results.map((r) => r.id) });
  },
};
`;

describe("faults during a D1 restore", () => {
  let t: TestEdge;
  let dir: string;
  let store: Store;
  let spec: ResolvedSpec;
  let runtime: TargetRuntime;
  let engine: Engine;
  let migrating: Release;
  const ids = async () =>
    (JSON.parse((await httpGet(t.edge.region("eu").port, `${WORKER}.localhost`, { path: "/" })).body) as { ids: number[] }).ids;
  const dbId = () => store.resources.list("default", "eu").find((r) => r.kind === "d1" && r.name === "notes")!.resource_id;
  const release = async () => engine.wait((await engine.release(WORKER, { by: "test" })).id);
  const restore = () => engine.restoreD1({ binding: "DB", target: "eu", release: migrating.id });

  beforeAll(async () => {
    t = await startTestEdge({ regions: ["eu"] });
    dir = await makeTempDir("d1-restore-faults");
    await mkdir(join(dir, "migrations"), { recursive: true });
    await writeFile(
      join(dir, "migrations", "001_notes.sql"),
      "CREATE TABLE notes (id INTEGER PRIMARY KEY);\nINSERT INTO notes VALUES (1);\n",
    );
    await writeFile(join(dir, `${WORKER}.js`), SOURCE);
    const file = join(dir, "orchestrator.yaml");
    await writeFile(file, YAML);
    spec = resolveSpec(parseSpec(YAML, file), file);
    const info = edgeInfo(t.edge);
    const region = info.regions[0]!;
    // Attempts time out after 1.5 s; a slowed region answers after 2 s; retries wait 2.5 s.
    runtime = {
      name: "eu",
      accountId: region.accountId,
      client: createCloudflareClient({
        baseUrl: info.apiUrl,
        apiToken: info.token,
        accountId: region.accountId,
        timeoutMs: 1_500,
        maxRetries: 2,
        baseDelayMs: 2_500,
        maxDelayMs: 2_500,
        random: () => 1,
      }),
      endpoint: (w: string) => ({ url: `http://127.0.0.1:${region.port}/`, host: `${w}.localhost` }),
    };
    store = createStore(join(dir, "orchestrator.sqlite"));
    engine = createEngine({ store, spec: () => spec, targets: () => new Map([["eu", runtime]]) });
    expect((await release()).status).toBe("succeeded");
    // The release to undo: its migration adds row 2 (after the bookmark it took).
    await writeFile(join(dir, "migrations", "002_more.sql"), "INSERT INTO notes VALUES (2);\n");
    migrating = await release();
    expect(migrating.status, migrating.reason ?? "").toBe("succeeded");
    expect(await ids()).toEqual([1, 2]);
  }, 120_000);
  afterAll(async () => {
    await engine?.close();
    store?.close();
    await t?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("the region out: ERR_CF_UNAVAILABLE, nothing restored; the same restore completes once it answers", { timeout: 60_000 }, async () => {
    await t.edge.setFault("eu", { outage: true });
    const e = await refusal(restore());
    await t.edge.setFault("eu", null);
    expect(e.code).toBe("ERR_CF_UNAVAILABLE");
    expect(await ids()).toEqual([1, 2]);
    const done = await restore();
    expect(await ids()).toEqual([1]);
    // Undone again, for the next test.
    await runtime.client.restoreD1(dbId(), done.undoBookmark!);
    expect(await ids()).toEqual([1, 2]);
  });

  it("the answer lost after the restore landed: not sent twice, the outcome named unknown, the bookmark from before undoes it", {
    timeout: 60_000,
  }, async () => {
    const eu = t.edge.region("eu");
    const restoreD1 = runtime.client.restoreD1.bind(runtime.client);
    // Slow only the restore's first attempt: the fault is cleared once the edge has taken it.
    runtime.client.restoreD1 = (db, bookmark) => {
      const seen = t.edge.apiRequestCount(eu.accountId);
      void t.edge.setFault("eu", { latencyMs: 2_000 });
      const timer = setInterval(() => {
        if (t.edge.apiRequestCount(eu.accountId) > seen) {
          clearInterval(timer);
          void t.edge.setFault("eu", null);
        }
      }, 5);
      return restoreD1(db, bookmark);
    };
    let e: CboError;
    try {
      const running = restore();
      // Meanwhile a release of the worker is refused, naming the restore.
      await new Promise((r) => setTimeout(r, 300));
      const busy = await refusal(engine.release(WORKER));
      expect(busy.code).toBe("ERR_CONFLICT");
      expect(busy.message).toMatch(/D1 restore in progress \(D1 notes on eu/);
      e = await refusal(running);
    } finally {
      runtime.client.restoreD1 = restoreD1;
    }
    expect(e.code).toBe("ERR_CF_UNAVAILABLE");
    expect(e.message).toMatch(/whether it landed is unknown/);
    const undo = (e.details as { undoBookmark: string }).undoBookmark;
    expect(e.message).toContain(undo);
    // It landed (once the slowed attempt ran), and the bookmark from before brings row 2 back.
    for (let i = 0; i < 100 && (await ids()).length !== 1; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await ids()).toEqual([1]);
    await runtime.client.restoreD1(dbId(), undo);
    expect(await ids()).toEqual([1, 2]);
  });

  // A daemon killed while it waits for the restore's answer keeps only what it recorded before
  // sending it: the route puts this bookmark on the audit record there, fail-closed.
  it("the way back (the bookmark from before) is handed over before the restore is sent; refusing it sends nothing", {
    timeout: 60_000,
  }, async () => {
    const refused = await refusal(
      engine.restoreD1(
        { binding: "DB", target: "eu", release: migrating.id },
        {
          beforeSending: () => {
            throw new CboError("ERR_AUDIT_UNAVAILABLE", "no audit");
          },
        },
      ),
    );
    expect(refused.code).toBe("ERR_AUDIT_UNAVAILABLE");
    expect(await ids()).toEqual([1, 2]);
    let handed: string | undefined;
    await engine.restoreD1({ binding: "DB", target: "eu", release: migrating.id }, { beforeSending: (b) => void (handed = b) });
    expect(await ids()).toEqual([1]);
    // That bookmark alone brings row 2 back.
    await runtime.client.restoreD1(dbId(), handed!);
    expect(await ids()).toEqual([1, 2]);
  });

  it("a restore while a release of the worker runs is refused, naming the release", { timeout: 60_000 }, async () => {
    await writeFile(join(dir, "migrations", "003_more.sql"), "INSERT INTO notes VALUES (3);\n");
    const started = await engine.release(WORKER, { by: "test" });
    const e = await refusal(restore());
    expect(e.code).toBe("ERR_CONFLICT");
    expect(e.message).toContain(started.id);
    expect((await engine.wait(started.id)).status).toBe("succeeded");
    expect(await ids()).toEqual([1, 2, 3]);
  });
});
