// A release's requests waiting for the Cloudflare request budget, on a real SQLite store and a
// real budget (with a manual clock): the release says so in its events, not on every request.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createRequestBudget } from "../cloudflare/index.ts";
import { createStore, type Store } from "../store/index.ts";
import { silentLogger } from "../telemetry/index.ts";
import { releaseCallScope } from "./budget-wait.ts";
import { createRecorder } from "./record.ts";

describe("a release waiting for the request budget", () => {
  let dir: string;
  let store: Store;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "cbo-budget-wait-"));
    store = createStore(join(dir, "s.db"));
    store.releases.insert({
      id: "r1",
      tenant: "default",
      worker: "w",
      kind: "release",
      status: "running",
      reason: null,
      plan: {},
      created_by: null,
    });
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("emits release.budget.waiting with the wait, at most every 10 s, and never for a short wait", async () => {
    let t = 0;
    const pending = new Set<() => void>();
    const budget = createRequestBudget({
      limit: 1,
      windowMs: 30_000,
      now: () => t,
      timers: { set: (fn) => (pending.add(fn), fn), clear: (fn) => pending.delete(fn as () => void) },
    });
    const rec = createRecorder(store, { id: "r1", tenant: "default", worker: "w" }, silentLogger);
    const scope = releaseCallScope(rec, { now: () => t });
    // What the transport passes to the budget from the release's call scope.
    const acquire = () => budget.acquire({ priority: scope.priority, onQueued: scope.onQueued });
    await acquire(); // starts at once: nothing said
    void acquire(); // waits 30 s
    t = 5_000;
    void acquire(); // waits 55 s, but 5 s after the last event
    t = 12_000;
    void acquire(); // waits 78 s: 12 s after the last event
    const events = store.events.list({ releaseId: "r1" }).filter((e) => e.type === "release.budget.waiting");
    expect(events.map((e) => e.data)).toEqual([
      { waitMs: 30_000, queued: 1, reason: "waiting for Cloudflare request budget, ~30 s (1 request queued on this token)" },
      { waitMs: 78_000, queued: 3, reason: "waiting for Cloudflare request budget, ~78 s (3 requests queued on this token)" },
    ]);
    expect(budget.stats().queued).toBe(3);
    // A wait under a second is not worth an event.
    const quick = createRequestBudget({ limit: 1, windowMs: 800, now: () => t, timers: { set: () => 0, clear: () => {} } });
    const quiet = releaseCallScope(rec, { now: () => t + 60_000 });
    await quick.acquire();
    void quick.acquire({ onQueued: quiet.onQueued });
    expect(store.events.list({ releaseId: "r1" }).filter((e) => e.type === "release.budget.waiting")).toHaveLength(2);
  });
});
