// A gate must probe the Worker's code. On Cloudflare (and on the local edge, which routes the same
// way) a Worker with `not_found_handling: single-page-application` and `run_worker_first:
// ["/api/*"]` answers /health from its assets (index.html, 200) whatever its code does, so a gate
// probing /health passes a version whose code fails everywhere. The plan says so; probed under
// /api/, the same broken code is caught and rolled back.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseSpec, resolveSpec, type ResolvedSpec } from "../src/config/load.ts";
import { createEngine } from "../src/deploy/index.ts";
import type { Engine } from "../src/deploy/types.ts";
import { createStore, type Store } from "../src/store/index.ts";
import type { TargetRuntime } from "../src/targets/types.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { httpGet } from "./support/http.ts";
import { edgeInfo, localRuntimes } from "./support/orchestrator.ts";

const APP = (v: string, ok: boolean) => `export default {
  async fetch(req) {
    const status = ${ok ? 200 : 500};
    return Response.json({ v: "${v}", path: new URL(req.url).pathname }, { status });
  },
};
`;
const WRANGLER = {
  name: "spa",
  main: "src/index.js",
  compatibility_date: "2025-09-01",
  assets: { directory: "public", not_found_handling: "single-page-application", run_worker_first: ["/api/*"] },
};
const specYaml = (probePath: string) =>
  [
    "targets:",
    "  - { name: eu, api: local }",
    "rollout:",
    "  steps: [50, 100]",
    `  gate: { probe_path: ${probePath}, interval_ms: 50, bake_ms: 300, min_samples: 3, failure_limit: 2, timeout_ms: 3000 }`,
    "  analysis: { enabled: false }",
    "workers:",
    "  - wrangler: spa/wrangler.jsonc",
  ].join("\n");

describe("a gate probe the static assets answer", () => {
  let t: TestEdge;
  let dir: string;
  let store: Store;
  let spec: ResolvedSpec;
  let runtimes: Map<string, TargetRuntime>;
  let engine: Engine;
  const write = async (rel: string, text: string) => {
    await mkdir(join(dir, rel, ".."), { recursive: true });
    await writeFile(join(dir, rel), text);
  };
  const useSpec = async (probePath: string) => {
    const file = join(dir, "orchestrator.yaml");
    await writeFile(file, specYaml(probePath));
    spec = resolveSpec(parseSpec(specYaml(probePath), file), file);
    runtimes = localRuntimes(edgeInfo(t.edge), spec);
  };
  const release = async () => engine.wait((await engine.release("spa", { by: "test" })).id);
  const get = (path: string) => httpGet(t.edge.region("eu").port, "spa.localhost", { path });

  beforeAll(async () => {
    t = await startTestEdge({ regions: ["eu"] });
    dir = await makeTempDir("probe-reach");
    await write("spa/public/index.html", "<h1>spa shell</h1>");
    await write("spa/wrangler.jsonc", JSON.stringify(WRANGLER, null, 2));
    await write("spa/src/index.js", APP("v1", true));
    await useSpec("/health");
    store = createStore(join(dir, "state.db"));
    engine = createEngine({ store, spec: () => spec, targets: () => runtimes });
  });
  afterAll(async () => {
    await engine?.close();
    store?.close();
    await t?.dispose();
  });

  it("is a plan warning, because a broken version passes such a gate", { timeout: 60_000 }, async () => {
    expect((await release()).status).toBe("succeeded");
    await write("spa/src/index.js", APP("v2", false));
    const plan = await engine.plan("spa");
    expect(plan.warnings).toContain(
      "gate probe_path /health reaches the static assets, not the Worker's code: not_found_handling: single-page-application " +
        'answers every path that no file and no run_worker_first rule claims (run_worker_first: ["/api/*"]) with /index.html and a 200. ' +
        "The gate and the health monitor cannot see whether the new version's code works; " +
        'probe a path the Worker serves (one under run_worker_first "/api/*"), or add /health to run_worker_first',
    );
    // What the warning is about: every probe got the SPA shell, so the failing code went out.
    const blind = await release();
    expect(blind.status, blind.reason ?? "").toBe("succeeded");
    expect(await get("/health")).toMatchObject({ status: 200, body: "<h1>spa shell</h1>" });
    expect((await get("/api/health")).status).toBe(500);
  });

  it("probed under run_worker_first, the plan is silent and the broken code is rolled back", { timeout: 60_000 }, async () => {
    await useSpec("/api/health");
    await write("spa/src/index.js", APP("v3", true));
    expect((await engine.plan("spa")).warnings ?? []).toEqual([]);
    expect((await release()).status).toBe("succeeded");
    await write("spa/src/index.js", APP("v4", false));
    const caught = await release();
    expect(caught.status, caught.reason ?? "").toBe("rolled_back");
    expect(JSON.parse((await get("/api/health")).body)).toEqual({ v: "v3", path: "/api/health" });
  });
});
