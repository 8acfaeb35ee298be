// The parts of a version upload's metadata a WorkerSource decides besides bindings, shaped as
// wrangler deploy shapes them (deploy-helpers: placement.ts parseConfigPlacement, assets.ts
// resolveAssetOptions, create-worker-upload-form.ts): placement, limits, logpush, observability,
// tail consumers, and the static assets' router config.
import type { Assets, ScriptSettings } from "../config/source/model.ts";
import type { AssetsConfigMetadata, WorkerUpload } from "./upload.ts";

/** wrangler's parseConfigPlacement: `off` without a hint is left out; a hint means smart. */
export function placementMetadata(placement: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!placement) return undefined;
  const hint = "hint" in placement ? placement.hint : undefined;
  if (!hint && placement.mode === "off") return undefined;
  if (hint || placement.mode === "smart") return hint === undefined ? { mode: "smart" } : { mode: "smart", hint };
  for (const key of ["region", "host", "hostname"]) if (placement[key]) return { mode: "targeted", [key]: placement[key] };
  return undefined;
}

/** The version-level settings of an upload from the source's settings (unset ones left out). */
export function uploadSettingsFromSource(
  s: ScriptSettings,
): Pick<WorkerUpload, "placement" | "limits" | "logpush" | "observability" | "tailConsumers"> {
  const placement = placementMetadata(s.placement);
  const limits =
    s.limits === undefined
      ? undefined
      : {
          ...(s.limits.cpuMs === undefined ? {} : { cpu_ms: s.limits.cpuMs }),
          ...(s.limits.subrequests === undefined ? {} : { subrequests: s.limits.subrequests }),
        };
  return {
    ...(placement === undefined ? {} : { placement }),
    ...(limits === undefined ? {} : { limits }),
    ...(s.logpush === undefined ? {} : { logpush: s.logpush }),
    ...(s.observability === undefined ? {} : { observability: s.observability }),
    ...(s.tailConsumers === undefined ? {} : { tailConsumers: s.tailConsumers }),
  };
}

/** `assets.config` of the metadata: the router settings and the `_redirects` / `_headers` files' text. */
export function assetsConfigMetadata(assets: Assets, files: { redirects?: string; headers?: string } = {}): AssetsConfigMetadata {
  return {
    ...(assets.htmlHandling === undefined ? {} : { html_handling: assets.htmlHandling }),
    ...(assets.notFoundHandling === undefined ? {} : { not_found_handling: assets.notFoundHandling }),
    ...(assets.runWorkerFirst === undefined ? {} : { run_worker_first: assets.runWorkerFirst }),
    ...(files.redirects === undefined ? {} : { _redirects: files.redirects }),
    ...(files.headers === undefined ? {} : { _headers: files.headers }),
  };
}
