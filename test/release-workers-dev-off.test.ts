// A Worker with workers.dev turned off (`workers_dev: false`, routes only) released on a real
// three-region local edge: the gate probes it on its route's host, not on workers.dev (which answers
// 404 for every path, so a gate there passed a version that fails every request), and a broken
// version is caught and rolled back. src/targets/worker-endpoint.ts.
import { writeFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseSpec, resolveSpec, type ResolvedSpec } from "../src/config/load.ts";
import { createEngine } from "../src/deploy/index.ts";
import type { Engine } from "../src/deploy/types.ts";
import { createStore, type Release, type Store } from "../src/store/index.ts";
import type { TargetRuntime } from "../src/targets/types.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { httpGet } from "./support/http.ts";
import { edgeInfo, liveOf, localRuntimes, versionSource, writeFleet, type Fleet } from "./support/orchestrator.ts";

const GATE = { interval_ms: 40, bake_ms: 250, min_samples: 3, failure_limit: 2, max_error_rate: 0.05, timeout_ms: 2000 };
const YAML = [
  "targets: [{ name: eu, api: local }, { name: us, api: local }]",
  "rollout:",
  "  waves: [[eu], [us]]",
  "  steps: [50, 100]",
  `  gate: ${JSON.stringify(GATE)}`,
  "workers:",
  "  - name: shop",
  "    main: shop.js",
  '    compatibility_date: "2025-01-01"',
  "    routes: [shop.example.com/*]",
  "    workers_dev: false",
].join("\n");

describe("a Worker with workers.dev off is gated on its route's host", () => {
  let t: TestEdge;
  let store: Store;
  let fleet: Fleet;
  let spec: ResolvedSpec;
  let runtimes: Map<string, TargetRuntime>;
  let engine: Engine;
  const release = async (): Promise<Release> => engine.wait((await engine.release("shop", { by: "test" })).id);

  beforeAll(async () => {
    t = await startTestEdge({ regions: ["eu", "us"] });
    const dir = await makeTempDir("workers-dev-off");
    fleet = await writeFleet(dir, `${YAML}\n`, { shop: versionSource("v1") });
    await writeFile(fleet.file, `${YAML}\n`);
    spec = resolveSpec(parseSpec(`${YAML}\n`, fleet.file), fleet.file);
    runtimes = localRuntimes(edgeInfo(t.edge), spec);
    store = createStore(`${dir}/state.db`);
    engine = createEngine({ store, spec: () => spec, targets: () => runtimes });
  });
  afterAll(async () => {
    await engine?.close();
    store?.close();
    await t?.dispose();
  });

  it("a good version passes its gates; workers.dev answers 404 while the route serves it", async () => {
    expect(await release()).toMatchObject({ status: "succeeded" });
    const port = t.edge.region("eu").port;
    expect((await httpGet(port, "shop.localhost")).status).toBe(404);
    expect(JSON.parse((await httpGet(port, "shop.example.com", { path: "/health" })).body)).toEqual({ v: "v1" });
  });

  it("a version that fails every request fails its first gate and is rolled back", async () => {
    const before = await liveOf(runtimes.get("eu")!, "shop");
    await fleet.setSource("shop", versionSource("v2", { failRate: 1 }));
    const r = await release();
    expect(r.status, r.reason ?? "").toBe("rolled_back");
    expect(await liveOf(runtimes.get("eu")!, "shop")).toEqual(before);
    expect(JSON.parse((await httpGet(t.edge.region("eu").port, "shop.example.com", { path: "/health" })).body)).toEqual({ v: "v1" });
  });
});
