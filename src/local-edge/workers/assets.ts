// Static assets inside the router: a version's manifest and serving config (fetched once per
// version from the edge, immutable like the version), the router's decision between assets and
// the Worker (run_worker_first, navigation requests), and the ASSETS binding. File contents come
// from the edge's content-addressed store; small files stay cached in the router's memory.
import { WorkerEntrypoint } from "cloudflare:workers";
import { assetIntent, decodeAssetPath, encodeAssetPath, runsWorkerFirst, type AssetConfig } from "./assets-intent.ts";

type Env = { CONTROL: Fetcher };

export type VersionAssets = {
  /** path -> content hash */
  manifest: Record<string, string>;
  config: AssetConfig & { run_worker_first?: unknown };
  /** The version has a Worker to fall back on (an assets-only upload has no main module). */
  hasWorker: boolean;
  /** Navigation requests (Sec-Fetch-Mode: navigate) get not_found_handling before the Worker (compat 2025-04-01+). */
  navigationPrefersAssets: boolean;
};

const versions = new Map<string, Promise<VersionAssets>>();
const blobs = new Map<string, { body: ArrayBuffer; type: string | null }>();
let cachedBytes = 0;
const CACHE_MAX_BYTES = 32 * 1024 * 1024;
const CACHE_ITEM_MAX_BYTES = 1024 * 1024;

export function versionAssets(env: Env, versionId: string): Promise<VersionAssets> {
  let p = versions.get(versionId);
  if (!p) {
    p = env.CONTROL.fetch(`http://control/assets/${versionId}`).then(async (r) => {
      if (!r.ok) throw new Error(`assets of version ${versionId} could not be loaded (${r.status})`);
      return (await r.json()) as VersionAssets;
    });
    p.catch(() => versions.delete(versionId));
    versions.set(versionId, p);
  }
  return p;
}

async function blob(env: Env, hash: string): Promise<{ body: ArrayBuffer; type: string | null } | undefined> {
  const hit = blobs.get(hash);
  if (hit) return hit;
  const r = await env.CONTROL.fetch(`http://control/asset/${hash}`);
  if (r.status === 404) return undefined;
  if (!r.ok) throw new Error(`asset ${hash} could not be read (${r.status})`);
  const out = { body: await r.arrayBuffer(), type: r.headers.get("x-asset-type") };
  if (out.body.byteLength <= CACHE_ITEM_MAX_BYTES && cachedBytes + out.body.byteLength <= CACHE_MAX_BYTES) {
    blobs.set(hash, out);
    cachedBytes += out.body.byteLength;
  }
  return out;
}

/**
 * The asset answer for a request, or null when no asset claims it (then the Worker runs, or a 404).
 * `notFound` false leaves not_found_handling out, as the router does before trying the Worker.
 */
export async function assetResponse(env: Env, a: VersionAssets, request: Request, notFound: boolean): Promise<Response | null> {
  const url = new URL(request.url);
  const decoded = decodeAssetPath(url.pathname);
  const cfg: AssetConfig = { ...a.config, ...(notFound ? {} : { not_found_handling: "none" as const }) };
  const intent = assetIntent(decoded, cfg, (p) => a.manifest[p]);
  if (!intent) return null;
  const method = request.method.toUpperCase();
  if (method !== "GET" && method !== "HEAD") return new Response("Method Not Allowed", { status: 405 });
  const destination = "redirect" in intent ? intent.redirect : decoded;
  const encoded = encodeAssetPath(destination);
  if ("redirect" in intent || encoded !== url.pathname)
    return new Response(null, { status: 307, headers: { location: encoded + url.search } });
  const file = await blob(env, intent.hash);
  if (!file) return new Response("The asset's content is missing from the local edge's store.", { status: 500 });
  const etag = `"${intent.hash}"`;
  const headers = new Headers({ etag, "cache-control": "public, max-age=0, must-revalidate" });
  if (file.type) headers.set("content-type", file.type);
  const inm = request.headers.get("if-none-match");
  if (inm === etag || inm === `W/${etag}`) return new Response(null, { status: 304, headers });
  return new Response(method === "HEAD" ? null : file.body, { status: intent.status, headers });
}

/** The router's order for a version with assets: run_worker_first, else an asset, else the Worker, else 404. */
export async function serveWithAssets(
  env: Env,
  versionId: string,
  request: Request,
  runWorker: () => Promise<Response>,
): Promise<Response> {
  const a = await versionAssets(env, versionId);
  const path = new URL(request.url).pathname;
  if (a.hasWorker && runsWorkerFirst(a.config.run_worker_first, path)) return runWorker();
  if (!a.hasWorker) return (await assetResponse(env, a, request, true)) ?? new Response(null, { status: 404 });
  const navigate = a.navigationPrefersAssets && request.headers.get("sec-fetch-mode") === "navigate";
  return (await assetResponse(env, a, request, navigate)) ?? runWorker();
}

/** `env.ASSETS`: the version's assets with its full not_found_handling, whatever run_worker_first says. */
export class AssetsBinding extends WorkerEntrypoint<Env> {
  override async fetch(request: Request): Promise<Response> {
    const versionId = (this.ctx as unknown as { props: { versionId: string } }).props.versionId;
    const a = await versionAssets(this.env, versionId);
    return (await assetResponse(this.env, a, request, true)) ?? new Response(null, { status: 404 });
  }
}
