// A region outage during a release (issue 11, item 7), on the real daemon and a real three-region
// local edge, with the fault injected through the edge's own admin API (what `cbo edge fault`
// calls): a touched region that cannot be rolled back stays owed. The daemon keeps retrying it,
// status (/v1/status, `cbo status`) and the dashboard say "restore pending", the release stays
// rolling_back, a daemon restart in between resumes it, and once the region answers again every
// touched region serves exactly one version, and the release says rolled_back.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDaemon, type Daemon } from "../src/daemon.ts";
import type { TargetRuntime } from "../src/targets/types.ts";
import { createStore, type StoredEvent } from "../src/store/index.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { eventually } from "./support/http.ts";
import {
  edgeInfo,
  fleetYaml,
  liveOf,
  localRuntimes,
  SHORT_RETRY,
  servedTags,
  versionSource,
  writeFleet,
  type Fleet,
} from "./support/orchestrator.ts";
import { runCbo } from "./support/run-cbo.ts";

const REGIONS = ["eu", "us", "ap"];
// Long enough a bake that the fault lands while the step's gate still runs: the fault is injected
// as the step starts and fails the gate within failure_limit probes (~150 ms), well inside 1.2 s.
const GATE = { interval_ms: 50, bake_ms: 1200, min_samples: 5, failure_limit: 3, max_error_rate: 0.05, timeout_ms: 1000 };
const CHROMIUM = "/usr/bin/chromium";

type TargetStatus = {
  target: string;
  live: Array<{ versionId: string; percentage: number }>;
  restore?: { releaseId: string; versionId: string | null; attempts: number; lastError: string } | null;
};
type Status = { workers: Array<{ name: string; targets: TargetStatus[]; lastRelease: { id: string; status: string } | null }> };

describe("a region outage during a release", () => {
  let t: TestEdge;
  let dir: string;
  let fleet: Fleet;
  let runtimes: Map<string, TargetRuntime>;
  let daemon: Daemon | undefined;
  const logs: string[] = [];
  const dataDir = () => join(dir, "data");

  const start = async () =>
    (daemon = await startDaemon({
      dataDir: dataDir(),
      configFile: fleet.file,
      port: 0,
      edge: t.edge,
      fallbackMasterKeyFile: join(dataDir(), "master.key"),
      monitorIntervalMs: 500,
      restoreBackoff: { baseMs: 200, maxMs: 1_500 },
      // Each call to the region held out fails after its retries, on a short backoff.
      cloudflareRetry: SHORT_RETRY,
      log: (l) => logs.push(l),
    }));
  const token = () => readFileSync(join(dataDir(), "admin-token"), "utf8").trim();
  async function status(): Promise<Status> {
    const res = await fetch(new URL("/v1/status", daemon!.url), { headers: { authorization: `Bearer ${token()}` } });
    expect(res.status).toBe(200);
    return (await res.json()) as Status;
  }
  const targetStatus = async (worker: string, target: string) =>
    (await status()).workers.find((w) => w.name === worker)!.targets.find((x) => x.target === target)!;
  /** Through the edge's admin API, as `cbo edge fault <region> outage|clear` does. */
  async function fault(region: string, outage: boolean) {
    const res = await fetch(`${t.edge.adminUrl}/faults/${region}`, {
      method: outage ? "PUT" : "DELETE",
      headers: { authorization: `Bearer ${t.edge.token}`, "content-type": "application/json" },
      ...(outage ? { body: JSON.stringify({ outage: true }) } : {}),
    });
    expect(res.status, await res.text()).toBe(200);
  }
  /** The version each region serves at 100% after a good release of `tag`. */
  async function ship(worker: string, tag: string): Promise<Record<string, string>> {
    await fleet.setSource(worker, versionSource(tag));
    const r = await daemon!.engine.wait((await daemon!.engine.release(worker, { by: "test" })).id);
    expect(r.status, r.reason ?? "").toBe("succeeded");
    return Object.fromEntries(
      await Promise.all(REGIONS.map(async (region) => [region, (await liveOf(runtimes.get(region)!, worker))[0]!.versionId] as const)),
    );
  }
  /** Starts a release of `tag`, and injects an outage into `region` once its `percent` step is deployed. */
  async function releaseWithOutage(
    worker: string,
    tag: string,
    region: string,
    percent: number,
  ): Promise<{ id: string; faulted: Promise<void> }> {
    await fleet.setSource(worker, versionSource(tag));
    let faulted: Promise<void> | undefined;
    let id = "";
    const off = daemon!.store.events.subscribe((e) => {
      if (!faulted && e.release_id === id && e.type === "release.step.started" && e.target === region && e.data.percent === percent)
        faulted = fault(region, true);
    });
    id = (await daemon!.engine.release(worker, { by: "test" })).id;
    await eventually(async () => faulted ?? Promise.reject(new Error(`${region} ${percent}% not deployed yet`)), 30_000);
    off();
    return { id, faulted: faulted! };
  }
  const eventsOf = (id: string): StoredEvent[] => daemon!.store.events.list({ releaseId: id });
  async function expectOnly(worker: string, region: string, versionId: string, tag: string) {
    expect(await liveOf(runtimes.get(region)!, worker), `${region} deployment`).toEqual([{ versionId, percentage: 100 }]);
    expect(await servedTags(t.edge.region(region).port, worker, 10), `${region} over HTTP`).toEqual(new Set([tag]));
  }

  beforeAll(async () => {
    t = await startTestEdge({ regions: REGIONS });
    dir = await makeTempDir("outage");
    const workers = ["split", "late"];
    fleet = await writeFleet(
      dir,
      fleetYaml({ workers, steps: [50, 100], waves: [["eu"], ["us"], ["ap"]], gate: GATE }),
      Object.fromEntries(workers.map((w) => [w, versionSource("v0")])),
    );
    runtimes = localRuntimes(edgeInfo(t.edge), fleet.spec);
    await start();
  }, 60_000);
  afterAll(async () => {
    await daemon?.close();
    await t?.dispose();
  });

  it("eu out at its 50% step: restore pending in status, CLI and dashboard, through a daemon restart, then rolled back, eu on one version", {
    timeout: 180_000,
  }, async () => {
    const v1 = await ship("split", "v1");
    const { id, faulted } = await releaseWithOutage("split", "v2", "eu", 50);
    try {
      await faulted;
      // The gate fails on eu (its Workers answer 503), and so does the rollback's deployment: owed.
      await eventually(
        async () =>
          eventsOf(id).some((e) => e.type === "release.restore.pending" && e.target === "eu")
            ? true
            : Promise.reject(new Error("not owed yet")),
        60_000,
        200,
      );
      expect(daemon!.store.releases.get(id)!.status).toBe("rolling_back");
      const owed = await targetStatus("split", "eu");
      expect(owed.restore, JSON.stringify(owed)).toMatchObject({ releaseId: id, versionId: v1.eu });
      expect(owed.restore!.lastError).toMatch(/ERR_CF_UNAVAILABLE/);
      expect((await targetStatus("split", "us")).restore).toBeNull();
      // The release is not over, and it cannot be aborted into a second rollback meanwhile.
      await expect(daemon!.engine.abort(id)).rejects.toThrow(/restore pending on eu/);
      await expect(daemon!.engine.release("split")).rejects.toThrow(/already has a release in progress .*restore pending on eu/);

      // `cbo status`, the real binary.
      const cli = await runCbo(["status", "--url", daemon!.url, "--token", token()]);
      expect(cli.code, cli.stderr).toBe(0);
      expect(cli.stdout).toMatch(/split\s+eu\s+.*\(restore pending\)/);
      expect(cli.stdout).toContain(`split/eu  back to ${v1.eu} for release ${id}`);

      // The dashboard's architecture view, in Chromium.
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: ["--no-sandbox", "--disable-gpu", "--no-first-run"],
      });
      try {
        const page = await browser.newPage();
        await page.goto(new URL("/ui/", daemon!.url).href);
        await page.fill("#token", token());
        await page.click("button[type=submit]");
        const eu = page.locator('g.worker[data-worker="split"][data-target="eu"]');
        await eu.and(page.locator('[data-restore="pending"]')).waitFor({ timeout: 15_000 });
        expect(await eu.getAttribute("aria-label")).toContain("restore pending");
        expect(await eu.locator(".restore-badge").textContent()).toBe("restore pending");
        expect(await page.locator('g.worker[data-worker="split"][data-target="us"][data-restore]').count()).toBe(0);
        await eu.click();
        await expect.poll(() => page.locator(".arch-details").textContent()).toContain(`back to ${v1.eu}`);
      } finally {
        await browser.close();
      }

      // A restart while eu is still out: the journal keeps what is owed, the new daemon resumes it.
      await daemon!.close();
      daemon = undefined;
      const store = createStore(join(dataDir(), "orchestrator.sqlite"));
      try {
        expect(store.releases.get(id)!.status).toBe("rolling_back");
        expect(
          store.releases
            .entries(id)
            .filter((e) => e.target === "eu")
            .map((e) => e.kind),
        ).toContain("restore.owed");
      } finally {
        store.close();
      }
      await start();
      expect(daemon!.store.releases.get(id)!.status).toBe("rolling_back");
      expect(daemon!.engine.restores()).toEqual([expect.objectContaining({ releaseId: id, target: "eu", versionId: v1.eu })]);
      expect((await targetStatus("split", "eu")).restore).toMatchObject({ releaseId: id, versionId: v1.eu });
    } finally {
      await fault("eu", false);
    }

    // The region answers again: the owed restore lands, and only then the release ends.
    const r = await daemon!.engine.wait(id);
    expect(r.status, r.reason ?? "").toBe("rolled_back");
    expect(r.reason).toContain(`eu rolled back to ${v1.eu}`);
    await expectOnly("split", "eu", v1.eu!, "v1");
    for (const region of ["us", "ap"]) await expectOnly("split", region, v1[region]!, "v1");
    expect(daemon!.store.releases.entries(id).filter((e) => e.target === "us" || e.target === "ap")).toEqual([]);
    const types = eventsOf(id).map((e) => e.type);
    expect(types).toContain("release.restore.completed");
    expect(types.at(-1)).toBe("release.rolled_back");
    // While eu was out, its requests were tried again, and the release said so (what, why, which attempt).
    const retrying = eventsOf(id).filter((e) => e.type === "release.cloudflare.retrying");
    expect(retrying.length).toBeGreaterThan(0);
    for (const e of retrying) {
      expect(e.target).toBe("eu");
      expect(e.data.reason).toMatch(/^eu: Cloudflare API [A-Z]+ \/\S+: HTTP 503 \(attempt \d of 6\); trying again in \d+ s$/);
    }
    expect((await targetStatus("split", "eu")).restore).toBeNull();
    expect(daemon!.engine.restores()).toEqual([]);
  });

  it("us out after its 100% step (eu done): eu goes back at once, us when it answers, and the release says rolled_back", {
    timeout: 120_000,
  }, async () => {
    const v1 = await ship("late", "v1");
    const { id, faulted } = await releaseWithOutage("late", "v2", "us", 100);
    try {
      await faulted;
      await eventually(
        async () =>
          eventsOf(id).some((e) => e.type === "release.restore.pending" && e.target === "us")
            ? true
            : Promise.reject(new Error("not owed yet")),
        60_000,
        200,
      );
      // eu answered: it is back already, while the release waits for us.
      await expectOnly("late", "eu", v1.eu!, "v1");
      expect(daemon!.store.releases.get(id)!.status).toBe("rolling_back");
      expect((await targetStatus("late", "us")).restore).toMatchObject({ releaseId: id, versionId: v1.us });
      expect((await targetStatus("late", "eu")).restore).toBeNull();
      await new Promise((r) => setTimeout(r, 2_000));
      expect(daemon!.store.releases.get(id)!.status, "still waiting for us").toBe("rolling_back");
    } finally {
      await fault("us", false);
    }
    const r = await daemon!.engine.wait(id);
    expect(r.status, r.reason ?? "").toBe("rolled_back");
    expect(r.reason).toMatch(new RegExp(`us back on ${v1.us} \\(after \\d+ attempts\\)`));
    for (const region of REGIONS) await expectOnly("late", region, v1[region]!, "v1");
    expect(daemon!.store.releases.entries(id).filter((e) => e.target === "ap")).toEqual([]);
  });
});
