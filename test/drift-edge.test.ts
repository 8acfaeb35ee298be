// Drift end to end: a real daemon (startDaemon, monitor interval 300 ms) releases a Worker to three
// regions of the real local edge; then the real wrangler (the pinned devDependency) changes it
// behind the orchestrator's back: a `wrangler deploy` of another script to eu, a `wrangler secret
// put` on us. Each must show as drift for that target only (events, audit, GET /v1/status,
// `cbo status`, `cbo events`) within DETECT_INTERVALS monitor intervals of wrangler's exit, plus
// one pass's own reads; the values of vars and secrets must appear nowhere. Then the same daemon
// data restarts with `drift: revert`: both targets are put back (the original version serves
// again), with drift.reverted and drift.resolved, and ap is never touched.
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDaemon, type Daemon } from "../src/daemon.ts";
import type { StoredEvent } from "../src/store/index.ts";
import { generateKeyFile } from "../src/vault/index.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { eventually, httpGet } from "./support/http.ts";
import { localRuntimes, versionSource } from "./support/orchestrator.ts";
import { runCbo } from "./support/run-cbo.ts";
import { createWranglerProject } from "./support/wrangler.ts";

const INTERVAL_MS = 300;
/** Drift must show within this many monitor intervals (each up to +20% jitter) of the change... */
const DETECT_INTERVALS = 3;
/** ...plus the pass's own reads (the deployment and two versions, on a loaded two-core machine). */
const PASS_SLACK_MS = 2_000;
const DETECT_WITHIN_MS = DETECT_INTERVALS * INTERVAL_MS * 1.2 + PASS_SLACK_MS;

const GREETING = `greeting-value-${randomBytes(6).toString("hex")}`;
const HAND_SECRET = `hand-secret-value-${randomBytes(6).toString("hex")}`;

const spec = (policy: "report" | "revert") => `version: 1
targets:
  - { name: eu, api: local }
  - { name: us, api: local }
  - { name: ap, api: local }
rollout:
  steps: [50, 100]
  gate: { bake_ms: 100, min_samples: 2, interval_ms: 20 }
workers:
  - name: drifty
    main: drifty.js
    compatibility_date: "2025-01-01"
    vars: { GREETING: ${GREETING} }
    drift: ${policy}
`;

describe("drift against the real local edge and real wrangler", () => {
  let t: TestEdge;
  let dir: string;
  let d: Daemon;
  let token: string;
  const leaks: string[] = [];

  const start = async (policy: "report" | "revert") => {
    writeFileSync(join(dir, "orchestrator.yaml"), spec(policy));
    d = await startDaemon({
      dataDir: join(dir, "data"),
      configFile: join(dir, "orchestrator.yaml"),
      edge: t.edge,
      masterKeyFile: join(dir, "master.key"),
      env: {},
      port: 0,
      monitorIntervalMs: INTERVAL_MS,
      log: () => {},
    });
    token ??= d.initialAdminToken!;
  };
  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(new URL(path, d.url), {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    leaks.push(text);
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return JSON.parse(text) as T;
  };
  type StatusTarget = {
    target: string;
    drift: { status: string; kinds: string[]; detail: string; differences: Array<Record<string, unknown>> } | null;
  };
  const statusTargets = async () =>
    (await api<{ workers: Array<{ name: string; targets: StatusTarget[] }> }>("GET", "/v1/status")).workers[0]!.targets;
  const driftEvents = (after: number): StoredEvent[] => d.store.events.list({ after }).filter((e) => e.type.startsWith("drift."));
  const served = async (region: string) => {
    const port = t.edge.regions.find((r) => r.name === region)!.port;
    const r = await httpGet(port, "drifty.localhost");
    return r.status === 200 ? (JSON.parse(r.body) as { v: string }).v : `HTTP ${r.status}`;
  };
  const accountOf = (region: string) => t.edge.regions.find((r) => r.name === region)!.accountId;
  /** Waits for a drift.detected of `target` after event `after`, at most DETECT_WITHIN_MS from now. */
  const detected = (after: number, target: string) =>
    eventually(
      async () => {
        const e = driftEvents(after).find((x) => x.type === "drift.detected" && x.target === target);
        expect(e, `drift.detected for ${target}`).toBeDefined();
        return e!;
      },
      DETECT_WITHIN_MS,
      20,
    );

  beforeAll(async () => {
    t = await startTestEdge({ regions: ["eu", "us", "ap"] });
    dir = await makeTempDir("drift");
    writeFileSync(join(dir, "drifty.js"), versionSource("ours"));
    generateKeyFile(join(dir, "master.key"));
    await start("report");
    const { id } = await api<{ id: string }>("POST", "/v1/releases", { worker: "drifty" });
    const r = await d.engine.wait(id);
    expect(r.status, r.reason ?? "").toBe("succeeded");
  }, 60_000);

  afterAll(async () => {
    await d?.close();
    await t?.dispose();
  });

  it("after the release every target is in sync, without drift events", async () => {
    await eventually(
      async () => {
        expect((await statusTargets()).map((x) => [x.target, x.drift?.status])).toEqual([
          ["eu", "in_sync"],
          ["us", "in_sync"],
          ["ap", "in_sync"],
        ]);
      },
      10_000,
      50,
    );
    expect(driftEvents(0)).toEqual([]);
    for (const region of ["eu", "us", "ap"]) expect(await served(region)).toBe("ours");
  });

  it(`a real \`wrangler deploy\` to eu is drift there within ${DETECT_INTERVALS} intervals, and only there`, async () => {
    const project = await createWranglerProject(join(dir, "wrangler-eu"), t.edge, accountOf("eu"));
    await project.writeConfig({ name: "drifty", main: "src/index.js", compatibility_date: "2024-09-23" });
    await project.writeSource(versionSource("wrangler"));
    const before = d.store.events.lastId();
    await project.ok(["deploy"]);
    const e = await detected(before, "eu");
    expect(await served("eu")).toBe("wrangler"); // the edge really serves it: nothing was reverted
    expect(e.data.kinds).toEqual(["code", "unknown_version", "bindings", "settings"]);
    expect(e.data.policy).toBe("report");
    expect(e.data.reason).toMatch(/was not uploaded by the orchestrator \(unknown version\)/);
    expect(e.data.reason).toMatch(/-GREETING \(plain_text\)/);
    expect(e.data.reason).toMatch(/compatibility_date of \w+: 2024-09-23 \(desired version: 2025-01-01\)/);
    leaks.push(JSON.stringify(e));

    // Only eu: a few more passes bring no event for us or ap, and they stay in sync.
    await new Promise((r) => setTimeout(r, 3 * INTERVAL_MS));
    expect(driftEvents(before).map((x) => `${x.type}:${x.target}`)).toEqual(["drift.detected:eu"]);
    const targets = await statusTargets();
    expect(targets.map((x) => [x.target, x.drift?.status])).toEqual([
      ["eu", "drifted"],
      ["us", "in_sync"],
      ["ap", "in_sync"],
    ]);
    expect(targets[0]!.drift!.kinds).toEqual(["code", "unknown_version", "bindings", "settings"]);

    // On the record: the audit log has it, from the monitor's event.
    const audited = d.security.audit.search({ limit: 10_000 }).filter((a) => a.action === "drift.detected");
    expect(audited.map((a) => a.details.edgeTarget)).toEqual(["eu"]);
    leaks.push(JSON.stringify(audited));
  });

  it("`cbo status` shows it: --json with the drift field, text with a DRIFT column and what differs", async () => {
    const json = await runCbo(["status", "--json", "--data", join(dir, "data")], { cwd: dir });
    expect(json.code, json.stderr).toBe(0);
    leaks.push(json.stdout, json.stderr);
    const eu = (JSON.parse(json.stdout) as { workers: Array<{ targets: StatusTarget[] }> }).workers[0]!.targets.find(
      (x) => x.target === "eu",
    )!;
    expect(eu.drift).toMatchObject({ status: "drifted", kinds: ["code", "unknown_version", "bindings", "settings"] });
    const text = await runCbo(["status", "--data", join(dir, "data")], { cwd: dir });
    expect(text.code, text.stderr).toBe(0);
    leaks.push(text.stdout);
    expect(text.stdout).toMatch(/^WORKER\s+TARGET\s+LIVE\s+HEALTH\s+DRIFT$/m);
    expect(text.stdout).toMatch(/^drifty\s+eu\s+\S+ 100%\s+\S+.*DRIFT code,unknown_version,bindings,settings$/m);
    expect(text.stdout).toMatch(/^\s+us\s+\S+ 100%\s+.*in sync$/m);
    expect(text.stdout).toMatch(/^ {2}drifty\/eu {2}serves \w{8} 100% instead of \w{8} 100%; /m);
  });

  it("a secret put by hand with `wrangler secret put` on us is drift of kind bindings naming it, never its value", async () => {
    const project = await createWranglerProject(join(dir, "wrangler-us"), t.edge, accountOf("us"));
    await project.writeConfig({ name: "drifty", main: "src/index.js", compatibility_date: "2025-01-01" });
    const before = d.store.events.lastId();
    await project.ok(["secret", "put", "HAND_SECRET"], { input: HAND_SECRET });
    const e = await detected(before, "us");
    expect(e.data.kinds).toEqual(["code", "unknown_version", "bindings"]);
    const bindings = (e.data.differences as Array<Record<string, unknown>>).find((x) => x.kind === "bindings");
    expect(bindings).toMatchObject({ added: [{ name: "HAND_SECRET", type: "secret_text" }], removed: [], changed: [] });
    expect(e.data.reason).toContain("+HAND_SECRET (secret_text)");
    leaks.push(JSON.stringify(e), JSON.stringify(await statusTargets()));
    expect(driftEvents(before).filter((x) => x.target !== "us")).toEqual([]);
  });

  it("`cbo events` tells the drift events in words", async () => {
    const r = await runCbo(["events", "--data", join(dir, "data")], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    leaks.push(r.stdout);
    expect(r.stdout).toMatch(/ drifty\/eu {2}drift detected \(code, unknown_version, bindings, settings\): serves /);
    expect(r.stdout).toMatch(/ drifty\/us {2}drift detected \(code, unknown_version, bindings\): .*\+HAND_SECRET \(secret_text\)/);
  });

  it("with `drift: revert`, the daemon puts the desired version back on eu and us; the original serves again", async () => {
    await d.close();
    await start("revert");
    await eventually(
      async () => {
        const types = driftEvents(0).map((x) => `${x.type}:${x.target}`);
        for (const target of ["eu", "us"]) {
          expect(types).toContain(`drift.reverted:${target}`);
          expect(types).toContain(`drift.resolved:${target}`);
        }
      },
      10_000,
      50,
    );
    for (const region of ["eu", "us", "ap"]) expect(await served(region)).toBe("ours");
    const all = driftEvents(0);
    // The restarted daemon found the same drifts in the store: no second drift.detected for them.
    expect(all.filter((x) => x.type === "drift.detected").map((x) => x.target)).toEqual(["eu", "us"]);
    expect(all.filter((x) => x.type === "drift.resolved").every((x) => x.data.reverted === true)).toBe(true);
    expect(all.some((x) => x.target === "ap")).toBe(false);
    // Annotated as ours, at 100% of the version the release shipped.
    const runtimes = localRuntimes({ apiUrl: t.edge.apiUrl, token: t.edge.token, regions: t.edge.regions }, d.spec);
    const shipped = d.store.catalog.versions("default", "drifty", "eu", 1)[0]!.version_id;
    const [live] = await runtimes.get("eu")!.client.listDeployments("drifty");
    expect(live!.annotations?.["workers/message"]).toBe("cbo drift revert");
    expect(live!.versions).toEqual([{ version_id: shipped, percentage: 100 }]);
    await eventually(
      async () => {
        expect((await statusTargets()).map((x) => [x.target, x.drift?.status])).toEqual([
          ["eu", "in_sync"],
          ["us", "in_sync"],
          ["ap", "in_sync"],
        ]);
      },
      5_000,
      50,
    );
    expect(
      d.security.audit
        .search({ limit: 10_000 })
        .filter((a) => a.action === "drift.reverted")
        .map((a) => a.details.edgeTarget)
        .sort(),
    ).toEqual(["eu", "us"]);
  });

  it("never shows a var's or a secret's value: events, audit entries, API answers and CLI output", () => {
    leaks.push(
      JSON.stringify(d.store.events.list({ limit: 10_000 })),
      JSON.stringify(d.security.audit.search({ limit: 10_000 })),
      JSON.stringify(d.store.drift.list()),
    );
    for (const text of leaks) {
      expect(text).not.toContain(GREETING);
      expect(text).not.toContain(HAND_SECRET);
    }
  });
});
