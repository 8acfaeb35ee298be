// The Cloudflare request budget under interactive use, against a real daemon on a real local edge
// over real HTTP, with a small budget (10 requests per 15 s, as CBO_CF_BUDGET=10/15 would set):
// a person's repeated plans, diffs and status reuse the reads of the last seconds (the edge counts
// no new request), a client that goes away mid-plan takes its queued reads with it (the edge never
// gets them), and a spent budget answers 429 ERR_CF_BUDGET with Retry-After within seconds, never
// a silent 30 s wait, then serves again once it has room. A release meanwhile is not refused: it
// waits its turn and says so in its events (release.budget.waiting).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Daemon } from "../src/daemon.ts";
import { startDaemonIn } from "./support/daemon-rig.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";

const SPEC = `version: 1
targets:
  - { name: eu, api: local }
  - { name: us, api: local }
rollout: { steps: [100], gate: { bake_ms: 0, min_samples: 1, interval_ms: 20 } }
workers:
  - { name: hello, main: hello.js }
`;

const LIMIT = 10;
// Long enough that plans every REUSE_MS (~6 requests each) spend it (each would wait more than the
// 5 s a person's read may: refused), and that a release behind them waits more than the 1 s its
// events start saying so at (10 requests in 15 s: one slot every 1.5 s). Each wait below is part
// of this window, so it is not longer.
const WINDOW_MS = 15_000;
const REUSE_MS = 3_000;

type Reads = { sent: number; reused: number; reuseMs: number };
type Answer = { status: number; ms: number; retryAfter: string | null; body: Record<string, unknown> };

describe("the Cloudflare request budget under interactive use", () => {
  let t: TestEdge;
  let d: Daemon;
  let token: string;

  const get = async (path: string, signal?: AbortSignal): Promise<Answer> => {
    const started = performance.now();
    const res = await fetch(new URL(path, d.url), { headers: { authorization: `Bearer ${token}` }, ...(signal ? { signal } : {}) });
    const body = (await res.json()) as Record<string, unknown>;
    return { status: res.status, ms: performance.now() - started, retryAfter: res.headers.get("retry-after"), body };
  };
  /** Requests the edge has received from the daemon (both regions: they share one token and budget). */
  const edgeCount = () => t.edge.regions.reduce((n, r) => n + t.edge.apiRequestCount(r.accountId), 0);
  /** The budget's gauges on /metrics (every account of the token shows the same budget). */
  const budgetGauges = async () => {
    const text = await (await fetch(new URL("/metrics", d.url), { headers: { authorization: `Bearer ${token}` } })).text();
    const gauge = (name: string) =>
      Math.max(...[...text.matchAll(new RegExp(`^${name}\\{[^}]*\\} (\\d+)`, "gm"))].map((m) => Number(m[1])));
    return { remaining: gauge("cbo_cloudflare_budget_remaining"), queued: gauge("cbo_cloudflare_budget_queued") };
  };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

  beforeAll(async () => {
    t = await startTestEdge({ regions: ["eu", "us"] });
    const dir = await makeTempDir("cf-budget");
    writeFileSync(join(dir, "orchestrator.yaml"), SPEC);
    writeFileSync(join(dir, "hello.js"), `export default { fetch: () => new Response("hello") };\n`);
    d = await startDaemonIn(dir, t.edge, {
      cloudflareBudget: { limit: LIMIT, windowMs: WINDOW_MS },
      reuseReadsMs: REUSE_MS,
    });
    token = d.initialAdminToken!;
  }, 60_000);
  afterAll(async () => {
    await d?.close();
    await t?.dispose();
  });

  it("reuses reads across plan, diff and status, drops a gone client's queued reads, and refuses a spent budget quickly", async () => {
    // 1. A plan, then at once the same plan, a diff and the status: the edge sees the first plan's
    // reads, and from the others only the live deployment of each target, which a plan or diff
    // reads anew (a `wrangler deploy` meanwhile must show); everything else is reused.
    const before = edgeCount();
    const first = await get("/v1/workers/hello/plan");
    expect(first.status).toBe(200);
    const firstReads = first.body.reads as Reads;
    expect(firstReads.sent).toBeGreaterThan(2);
    expect(edgeCount() - before).toBe(firstReads.sent);

    const again = await get("/v1/workers/hello/plan");
    const diff = await get("/v1/workers/hello/diff");
    const status = await get("/v1/status");
    expect([again.status, diff.status, status.status]).toEqual([200, 200, 200]);
    expect(again.body.reads).toEqual({ sent: 2, reused: firstReads.sent - 2, reuseMs: REUSE_MS });
    // (hello has no resources or settings: its diff reads only the deployments.)
    expect(diff.body.reads).toEqual({ sent: 2, reused: 0, reuseMs: REUSE_MS });
    expect(edgeCount() - before).toBe(firstReads.sent + 4);
    expect((await budgetGauges()).remaining).toBe(LIMIT - firstReads.sent - 4);

    // 2. As a user would: plan again now and then, until the budget is spent. The refusal comes
    // within seconds (never the CLI's 30 s timeout), as a 429 with Retry-After that says when.
    let refused: Answer | undefined;
    let refusedAt = 0;
    for (let i = 0; i < 10 && !refused; i++) {
      await sleep(REUSE_MS + 100);
      const plan = await get("/v1/workers/hello/plan");
      expect(plan.ms).toBeLessThan(10_000);
      if (plan.status === 429) {
        refused = plan;
        refusedAt = performance.now();
      } else expect(plan.status).toBe(200);
    }
    expect(refused, `the budget of 10 per ${WINDOW_MS / 1000} s was never spent`).toBeDefined();
    const error = refused!.body.error as {
      code: string;
      message: string;
      hint: string;
      details: { waitMs: number; retryAfter: number; limit: number };
    };
    expect(error.code).toBe("ERR_CF_BUDGET");
    expect(error.message).toMatch(
      new RegExp(
        `request budget of this token is spent: \\d+ of 10 requests in the last ${WINDOW_MS / 1000} s, \\d+ waiting; it has room for (this one|the ~\\d+ requests this answer needs) in ~\\d+ s`,
      ),
    );
    expect(error.hint).toMatch(/Try again in \d+ s/);
    expect(Number(refused!.retryAfter)).toBe(error.details.retryAfter);
    expect(error.details.retryAfter).toBeGreaterThan(0);
    expect(error.details.retryAfter).toBeLessThanOrEqual(WINDOW_MS / 1000);
    // The refused plan's reads that did not fit are not left queued.
    expect((await budgetGauges()).queued).toBe(0);

    // 3. Shortly before the budget has room again, a plan queues its reads (the wait is within the
    // few seconds a person is given); its client goes away: the reads leave the queue, and once
    // the budget has room the edge never receives them.
    const freeAt = refusedAt + error.details.waitMs;
    await sleep(freeAt - performance.now() - 3_000);
    const gone = new AbortController();
    const abandoned = get("/v1/workers/hello/plan", gone.signal).catch((e: unknown) => e);
    let queued = 0;
    for (let i = 0; i < 40 && queued === 0; i++) {
      await sleep(25);
      queued = (await budgetGauges()).queued;
    }
    expect(queued).toBeGreaterThan(0);
    const sentBefore = edgeCount();
    gone.abort();
    expect(await abandoned).toBeInstanceOf(Error);
    let left = queued;
    for (let i = 0; i < 40 && left > 0; i++) {
      await sleep(25);
      left = (await budgetGauges()).queued;
    }
    expect(left).toBe(0);
    await sleep(freeAt - performance.now() + 1_000);
    expect(edgeCount()).toBe(sentBefore);

    // 4. And the budget serves again once it has room: a person retries when Retry-After says.
    let served: Answer | undefined;
    const deadline = performance.now() + 2 * WINDOW_MS;
    while (!served && performance.now() < deadline) {
      const plan = await get("/v1/workers/hello/plan");
      expect(plan.ms).toBeLessThan(10_000);
      if (plan.status === 200) served = plan;
      else {
        expect(plan.status).toBe(429);
        expect((plan.body.error as { code: string }).code).toBe("ERR_CF_BUDGET");
        await sleep(Number(plan.retryAfter) * 1000);
      }
    }
    expect(served?.status).toBe(200);
  }, 120_000);

  it("lets a release wait for the budget as long as it takes, and says so in its events", async () => {
    // Plans until the budget is spent (a refusal: its next room is more than 5 s away), then a
    // release at once: it is not refused, its requests wait their turn.
    let refused = false;
    for (let i = 0; i < 10 && !refused; i++) {
      await sleep(REUSE_MS + 100);
      refused = (await get("/v1/workers/hello/plan")).status === 429;
    }
    expect(refused).toBe(true);
    // The setup wizard's checks read as a person too: answered within seconds, and a spent budget is
    // said as such (not as an unreachable target).
    const setup = await get("/v1/setup");
    expect(setup.status).toBe(200);
    expect(setup.ms).toBeLessThan(10_000);
    const targetsStep = (setup.body.steps as Array<{ id: string; status: string; detail: string }>).find((st) => st.id === "targets");
    expect(targetsStep?.status).toBe("failed");
    expect(targetsStep?.detail).toMatch(/request budget of this token is spent/);
    expect(targetsStep?.detail).not.toMatch(/Not reachable/);
    const res = await fetch(new URL("/v1/releases", d.url), {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ worker: "hello" }),
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    let status = "running";
    const deadline = performance.now() + 100_000;
    while (!["succeeded", "failed", "rolled_back", "aborted"].includes(status) && performance.now() < deadline) {
      await sleep(250);
      status = d.store.releases.get(id)!.status;
    }
    expect(status).toBe("succeeded");
    const waits = d.store.events.list({ releaseId: id }).filter((e) => e.type === "release.budget.waiting");
    expect(waits.length).toBeGreaterThan(0);
    expect(waits[0]!.data).toMatchObject({
      reason: expect.stringMatching(/^waiting for Cloudflare request budget, ~\d+ s \(\d+ requests? queued on this token\)$/),
    });
    // Right after it, the status never shows the deployment from before the release: each target
    // shows the new version, or says that the budget has no room to read it now (and when).
    const after = await get("/v1/status");
    expect(after.status).toBe(200);
    const uploaded = new Set(d.store.catalog.versions("default", "hello", undefined, 10).map((v) => v.version_id));
    const targets = (after.body.workers as Array<{ targets: Array<{ live: Array<{ versionId: string }>; liveError?: string }> }>)[0]!
      .targets;
    expect(targets).toHaveLength(2);
    for (const t of targets) {
      if (typeof t.liveError === "string")
        expect(t.liveError).toMatch(/request budget of this token is spent: .* room for this one in ~\d+ s/);
      else expect(t.live.some((v) => uploaded.has(v.versionId))).toBe(true);
    }
  }, 120_000);
});
