// Does the gate's probe reach the Worker's code, or do its static assets answer it?
//
// Cloudflare's router decides before the Worker runs (workers-shared router-worker, and
// asset-worker's canFetch): a `!` rule of run_worker_first sends the path to the assets, a plain
// rule to the Worker, `true` sends everything to the Worker; otherwise the assets answer when they
// claim the path, and with run_worker_first rules (static routing) "claim" includes
// not_found_handling. So a Worker with `not_found_handling: single-page-application` and
// `run_worker_first: ["/api/*"]` answers a probe of /health with index.html and a 200 whatever its
// code does: the gate, the canary analysis of that path and the health monitor would pass a
// version whose code fails. The local edge routes the same way (workers/assets.ts). A probe is
// not a navigation (no Sec-Fetch-Mode: navigate), so the navigation rule never applies to it.
// Pure: the plan says so before anything is uploaded.
import type { Assets } from "../config/source/model.ts";
import type { AssetManifest } from "../build/index.ts";
import { assetIntent, decodeAssetPath, globMatch, runsWorkerFirst, type AssetConfig, type Intent } from "../kit/assets-intent.ts";

export type ProbeReach = { reaches: "worker" } | { reaches: "assets"; why: string };

export function probeReach(o: { hasWorker: boolean; assets: Assets | undefined; manifest: AssetManifest; probePath: string }): ProbeReach {
  if (!o.hasWorker || !o.assets) return { reaches: "worker" };
  const path = decodeAssetPath(o.probePath.split(/[?#]/)[0] || "/");
  const rules = o.assets.runWorkerFirst;
  const config: AssetConfig = {
    html_handling: o.assets.htmlHandling ?? "auto-trailing-slash",
    not_found_handling: o.assets.notFoundHandling ?? "none",
  };
  if (Array.isArray(rules)) {
    const negative = rules.find((r) => r.startsWith("!") && globMatch(r.slice(1), path));
    if (negative) return { reaches: "assets", why: `the run_worker_first rule "${negative}" sends it to the assets` };
    if (runsWorkerFirst(rules, path)) return { reaches: "worker" };
  } else if (rules === true) return { reaches: "worker" };
  // Without rules, a path no file claims goes to the Worker whatever not_found_handling says.
  const probed: AssetConfig = Array.isArray(rules) ? config : { ...config, not_found_handling: "none" };
  const exists = (p: string) => o.manifest[p]?.hash;
  const intent = assetIntent(path, probed, exists);
  if (!intent) return { reaches: "worker" };
  return { reaches: "assets", why: claimedBy(intent, path, probed, o.manifest, rules) };
}

function claimedBy(intent: Exclude<Intent, null>, path: string, cfg: AssetConfig, manifest: AssetManifest, rules: unknown): string {
  if ("redirect" in intent) return `the assets redirect it to ${intent.redirect} (html_handling: ${cfg.html_handling})`;
  // The files html_handling maps the path onto; "/" (or "/docs/") is its directory's index.html.
  const dir = path.endsWith("/") ? path.slice(0, -1) : path;
  const near = [path, `${path}.html`, `${dir}.html`, `${dir}/index.html`];
  const file =
    near.find((k) => manifest[k]?.hash === intent.hash) ??
    Object.keys(manifest).find((k) => manifest[k]!.hash === intent.hash && (k.startsWith(`${path}.`) || k.startsWith(`${dir}/`)));
  if (file) return `the asset ${file} answers it`;
  const ruleList = Array.isArray(rules) ? ` (run_worker_first: ${JSON.stringify(rules)})` : "";
  if (cfg.not_found_handling === "single-page-application")
    return `not_found_handling: single-page-application answers every path that no file and no run_worker_first rule claims${ruleList} with /index.html and a 200`;
  if (cfg.not_found_handling === "404-page")
    return `not_found_handling: 404-page answers every path that no file and no run_worker_first rule claims${ruleList} with a 404 page, so every probe fails`;
  return "a static asset answers it";
}

/** The plan's warning for one environment's build, or none when the probe reaches the code. */
export function probeWarning(o: {
  hasWorker: boolean;
  assets: Assets | undefined;
  manifest: AssetManifest | undefined;
  probePath: string;
}): string | undefined {
  const r = probeReach({ ...o, manifest: o.manifest ?? {} });
  if (r.reaches === "worker") return undefined;
  const rules = o.assets?.runWorkerFirst;
  const positive = Array.isArray(rules) ? rules.find((x) => !x.startsWith("!")) : undefined;
  const fix = positive
    ? `probe a path the Worker serves (one under run_worker_first "${positive}"), or add ${o.probePath} to run_worker_first`
    : `probe a path the Worker serves, or add ${o.probePath} to assets.run_worker_first`;
  return (
    `gate probe_path ${o.probePath} reaches the static assets, not the Worker's code: ${r.why}. ` +
    `The gate and the health monitor cannot see whether the new version's code works; ${fix}`
  );
}
