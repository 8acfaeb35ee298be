import { describe, expect, it } from "vitest";
import type { Assets } from "../config/source/model.ts";
import { probeReach, probeWarning } from "./probe-reach.ts";

const manifest = {
  "/index.html": { hash: "h-index", size: 10 },
  "/status.html": { hash: "h-status", size: 10 },
  "/api/ping": { hash: "h-ping", size: 1 },
};
const assets = (a: Partial<Assets> = {}): Assets => ({ directory: "/p/public", ...a });
const reach = (a: Partial<Assets>, probePath: string, hasWorker = true) =>
  probeReach({ hasWorker, assets: assets(a), manifest, probePath });

describe("where the gate's probe lands on a Worker with static assets", () => {
  it("an SPA with run_worker_first rules answers a path outside them with index.html, not the Worker", () => {
    const spa = { notFoundHandling: "single-page-application" as const, runWorkerFirst: ["/api/*"] };
    const r = reach(spa, "/health");
    expect(r).toMatchObject({ reaches: "assets" });
    expect(r.reaches === "assets" && r.why).toContain("single-page-application");
    expect(reach(spa, "/api/health")).toEqual({ reaches: "worker" });
    // The same SPA without rules: a probe is no navigation, so the Worker answers what no file claims.
    expect(reach({ notFoundHandling: "single-page-application" }, "/health")).toEqual({ reaches: "worker" });
  });

  it("a 404-page with rules answers with its 404 page; a file at the path answers it in every mode", () => {
    const withPage = probeReach({
      hasWorker: true,
      assets: assets({ notFoundHandling: "404-page", runWorkerFirst: ["/api/*"] }),
      manifest: { ...manifest, "/404.html": { hash: "h-404", size: 3 } },
      probePath: "/health",
    });
    expect(withPage.reaches === "assets" && withPage.why).toContain("every probe fails");
    // html_handling maps /status onto /status.html.
    const file = reach({}, "/status?x=1");
    expect(file.reaches === "assets" && file.why).toBe("the asset /status.html answers it");
    expect(reach({ runWorkerFirst: true }, "/status")).toEqual({ reaches: "worker" });
  });

  it("names the index.html that answers a directory (the default probe path /), not a not_found_handling the Worker does not have", () => {
    // Found by releasing a wrangler project whose run_worker_first = true was removed: the warning
    // said "not_found_handling: 404-page … so every probe fails" while index.html answered / with a 200.
    for (const htmlHandling of ["auto-trailing-slash", "force-trailing-slash", "drop-trailing-slash"] as const) {
      const root = reach({ htmlHandling }, "/");
      expect(root.reaches === "assets" && root.why, htmlHandling).toBe("the asset /index.html answers it");
    }
    const docs = probeReach({
      hasWorker: true,
      assets: assets({ htmlHandling: "auto-trailing-slash" }),
      manifest: { ...manifest, "/docs/index.html": { hash: "h-docs", size: 3 } },
      probePath: "/docs/",
    });
    expect(docs.reaches === "assets" && docs.why).toBe("the asset /docs/index.html answers it");
  });

  it("a negative rule sends the path to the assets, even under a positive one", () => {
    const r = reach({ runWorkerFirst: ["/api/*", "!/api/ping"] }, "/api/ping");
    expect(r.reaches === "assets" && r.why).toBe('the run_worker_first rule "!/api/ping" sends it to the assets');
  });

  it("says nothing for an assets-only Worker, a Worker without assets, or a probe the code answers", () => {
    expect(reach({ notFoundHandling: "single-page-application", runWorkerFirst: ["/api/*"] }, "/health", false)).toEqual({
      reaches: "worker",
    });
    expect(probeWarning({ hasWorker: true, assets: undefined, manifest: undefined, probePath: "/health" })).toBeUndefined();
    expect(probeWarning({ hasWorker: true, assets: assets(), manifest, probePath: "/health" })).toBeUndefined();
  });

  it("the warning names the path, why, and a path that would reach the code", () => {
    const w = probeWarning({
      hasWorker: true,
      assets: assets({ notFoundHandling: "single-page-application", runWorkerFirst: ["/api/*"] }),
      manifest,
      probePath: "/health",
    });
    expect(w).toBe(
      "gate probe_path /health reaches the static assets, not the Worker's code: not_found_handling: single-page-application " +
        'answers every path that no file and no run_worker_first rule claims (run_worker_first: ["/api/*"]) with /index.html and a 200. ' +
        "The gate and the health monitor cannot see whether the new version's code works; " +
        'probe a path the Worker serves (one under run_worker_first "/api/*"), or add /health to run_worker_first',
    );
  });
});
