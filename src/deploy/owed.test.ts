// The owed-restore loop on a real SQLite store. The attempt is a scripted function standing in for
// the edge's answers (a region out, then back; a refusal); test/release-outage.test.ts runs the
// same loop against the real local edge with injected faults.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CboError } from "../kit/errors.ts";
import { createStore, type Store } from "../store/index.ts";
import { createRestoreBoard, finishRecorded, refusedForGood, untilRestored } from "./owed.ts";
import { createRecorder, RecordFailure } from "./record.ts";
import { silentLogger } from "../telemetry/index.ts";

const down = () => new CboError("ERR_CF_UNAVAILABLE", "Region eu is unavailable (injected outage).");

describe("owed restores", () => {
  let dir: string;
  let store: Store;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "cbo-owed-"));
    store = createStore(join(dir, "s.db"));
    store.releases.insert({
      id: "r1",
      tenant: "default",
      worker: "w",
      kind: "release",
      status: "rolling_back",
      reason: null,
      plan: {},
      created_by: null,
    });
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const ctx = (halt = new AbortController().signal) => {
    const rec = createRecorder(store, { id: "r1", tenant: "default", worker: "w" }, silentLogger);
    return {
      rec,
      release: { id: "r1", tenant: "default", worker: "w" },
      board: createRestoreBoard(),
      halt,
      backoff: { baseMs: 5, maxMs: 20 },
    };
  };

  it("retries what the edge cannot take yet until it lands, showing it on the board meanwhile, and says so once", async () => {
    const c = ctx();
    const seen: Array<ReturnType<typeof c.board.list>> = [];
    let calls = 0;
    const r = await untilRestored(c, "eu", "v1", async () => {
      seen.push(c.board.list());
      if (++calls <= 4) throw down();
      return "landed";
    });
    expect(r).toEqual({ ok: true, value: "landed", attempts: 5, owed: true });
    expect(seen[0]).toEqual([]);
    expect(seen[4]).toEqual([
      expect.objectContaining({
        releaseId: "r1",
        target: "eu",
        versionId: "v1",
        attempts: 4,
        lastError: expect.stringMatching(/^ERR_CF_UNAVAILABLE: Region eu/),
      }),
    ]);
    expect(c.board.list()).toEqual([]);
    expect(store.events.list({ releaseId: "r1" }).map((e) => `${e.type}:${e.target}`)).toEqual([
      "release.restore.pending:eu",
      "release.restore.completed:eu",
    ]);
    expect(store.releases.entries("r1").map((e) => e.kind)).toEqual(["restore.owed"]);
  });

  it("a write the store refuses is owed too; an edge refusal (4xx) is final", async () => {
    expect(refusedForGood(new CboError("ERR_CF_REQUEST", "10007 no such version"))).toBe(true);
    expect(refusedForGood(down())).toBe(false);
    expect(refusedForGood(new RecordFailure("journal entry rollback.intent", new Error("database or disk is full")))).toBe(false);
    const c = ctx();
    const refused = await untilRestored(c, "us", "v1", async () => {
      throw new CboError("ERR_CF_REQUEST", "Cloudflare API error 10007: version not found");
    });
    expect(refused).toMatchObject({ ok: false, attempts: 1, error: { code: "ERR_CF_REQUEST" } });
    expect(c.board.list()).toEqual([]);
  });

  it("stops on halt with its reason and leaves restore.owed for the next start", async () => {
    const halt = new AbortController();
    const c = ctx(halt.signal);
    const loop = untilRestored(c, "eu", "v1", async () => {
      throw down();
    });
    await new Promise((r) => setTimeout(r, 30));
    halt.abort(new Error("closing"));
    await expect(loop).rejects.toThrow("closing");
    expect(store.releases.entries("r1").map((e) => e.kind)).toEqual(["restore.owed"]);
  });

  it("records the end once the store takes it, retrying meanwhile", async () => {
    const c = ctx();
    // Every write refused (SQLITE_READONLY) until the store takes them again.
    store.db.exec("PRAGMA query_only = 1");
    const ended = finishRecorded(
      c,
      { status: "rolled_back", reason: "eu back on v1", events: [["release.rolled_back", { reason: "eu back on v1" }]] },
      () => store.releases.get("r1")!,
    );
    let settled = false;
    void ended.then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(settled).toBe(false);
    expect(store.releases.get("r1")!.status).toBe("rolling_back");
    expect(store.releases.entries("r1")).toEqual([]);
    store.db.exec("PRAGMA query_only = 0");
    expect((await ended).status).toBe("rolled_back");
    expect(store.releases.entries("r1").map((e) => `${e.kind}:${String(e.data.status)}`)).toEqual(["finished:rolled_back"]);
    expect(store.events.list({ releaseId: "r1" }).map((e) => e.type)).toEqual(["release.rolled_back"]);
  });
});
