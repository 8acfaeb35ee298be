// The monitor against the real local edge (workerd, two regions): a Worker deployed with our
// Cloudflare client, probed by Host on each region's public port; region outages are injected
// with the edge's fault switch and must show up as health.changed events for that region only.
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCloudflareClient } from "../src/cloudflare/index.ts";
import { parseSpec, resolveSpec, type ResolvedSpec } from "../src/config/load.ts";
import type { TargetRuntime } from "../src/targets/types.ts";
import type { LocalEdge } from "../src/local-edge/types.ts";
import { createMonitor, type Monitor } from "../src/monitor/index.ts";
import { createStore, type Store, type StoredEvent } from "../src/store/index.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { eventually } from "./support/http.ts";
import { workerSource } from "./support/worker-source.ts";

/** A target runtime per region, as the daemon builds them for `api: local` targets. */
function localTargets(edge: LocalEdge): Map<string, TargetRuntime> {
  const client = createCloudflareClient({ baseUrl: edge.apiUrl, apiToken: edge.token });
  return new Map(
    edge.regions.map((r) => [
      r.name,
      {
        name: r.name,
        accountId: r.accountId,
        client: client.forAccount(r.accountId),
        endpoint: (w: string) => ({ url: `http://127.0.0.1:${r.port}/`, host: `${w}.localhost` }),
      },
    ]),
  );
}

let te: TestEdge;
let dir: string;
let store: Store;
let spec: ResolvedSpec;
let targets: Map<string, TargetRuntime>;
let monitor: Monitor;

const changes = (after = 0): StoredEvent[] => store.events.list({ after }).filter((e) => e.type === "health.changed");
const statusOf = (target: string) => store.health.list().find((h) => h.worker === "probed" && h.target === target)?.status;

beforeAll(async () => {
  te = await startTestEdge({ regions: ["eu", "us"] });
  dir = await makeTempDir("monitor-edge");
  store = createStore(path.join(dir, "state.db"));
  const file = path.join(dir, "orchestrator.yaml");
  await fs.writeFile(path.join(dir, "probed.js"), workerSource("v1"));
  const yaml =
    "targets:\n  - name: eu\n  - name: us\nrollout:\n  gate:\n    probe_path: /health\nworkers:\n  - name: probed\n    main: probed.js\n";
  spec = resolveSpec(parseSpec(yaml, file), file);
  targets = localTargets(te.edge);
  for (const t of targets.values()) {
    const { versionId } = await t.client.deploy("probed", {
      mainModule: "index.js",
      modules: [{ name: "index.js", content: workerSource("v1") }],
      compatibilityDate: "2025-01-01",
    });
    // What the engine records on upload: the monitor treats the Worker as ours on this target.
    store.catalog.recordVersion({
      tenant: "default",
      worker: "probed",
      target: t.name,
      version_id: versionId,
      release_id: null,
      bundle_hash: null,
    });
  }
  monitor = createMonitor({ store, spec: () => spec, targets: () => targets, intervalMs: 100, timeoutMs: 1_000 });
  monitor.start();
});

afterAll(async () => {
  await monitor?.stop();
  store?.close();
  await te?.dispose();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

describe("monitor on the local edge", () => {
  it("sees the Worker healthy in both regions, once each", async () => {
    await eventually(
      async () => {
        expect(statusOf("eu")).toBe("healthy");
        expect(statusOf("us")).toBe("healthy");
      },
      10_000,
      50,
    );
    const first = changes();
    expect(first.map((e) => `${e.target}:${e.data.from}->${e.data.to}`).sort()).toEqual(["eu:unknown->healthy", "us:unknown->healthy"]);

    // Several more passes with nothing changing: no further events, fresh checks.
    const checked = store.health.list().find((h) => h.target === "eu")!.checked_at;
    await new Promise((r) => setTimeout(r, 600));
    expect(changes()).toHaveLength(2);
    expect(store.health.list().find((h) => h.target === "eu")!.checked_at > checked).toBe(true);
  });

  it("reports an outage in us within about a second, and only for us", async () => {
    const before = store.events.lastId();
    const t0 = performance.now();
    await te.edge.setFault("us", { outage: true });
    const [down] = await eventually(
      async () => {
        const seen = changes(before);
        expect(seen.length).toBeGreaterThan(0);
        return seen;
      },
      5_000,
      20,
    );
    const detectedMs = performance.now() - t0;
    expect(detectedMs).toBeLessThan(1_500);
    expect(down).toMatchObject({
      worker: "probed",
      target: "us",
      data: { from: "healthy", to: "unhealthy", detail: "HTTP 503", versionId: null },
    });

    // Steady outage: more passes, still exactly one event, and eu never flickered.
    await new Promise((r) => setTimeout(r, 500));
    expect(changes(before)).toHaveLength(1);
    expect(statusOf("eu")).toBe("healthy");
    expect(statusOf("us")).toBe("unhealthy");
  });

  it("reports the recovery with one more event when the outage clears", async () => {
    const before = store.events.lastId();
    await te.edge.setFault("us", null);
    const [up] = await eventually(
      async () => {
        const seen = changes(before);
        expect(seen.length).toBeGreaterThan(0);
        return seen;
      },
      5_000,
      20,
    );
    expect(up).toMatchObject({ target: "us", data: { from: "unhealthy", to: "healthy", detail: "HTTP 200" } });
    expect(typeof up!.data.latencyMs).toBe("number");
    await new Promise((r) => setTimeout(r, 500));
    expect(changes(before)).toHaveLength(1);
    expect(statusOf("us")).toBe("healthy");
  });
});
