// Static assets inside the router: a version's manifest and serving config (fetched once per
// version from the edge, immutable like the version), the router's decision between assets and
// the Worker (run_worker_first, navigation requests), `_redirects` and `_headers`, and the ASSETS binding. File contents come
// from the edge's content-addressed store; small files stay cached in the router's memory.
import { WorkerEntrypoint } from "cloudflare:workers";
import { assetIntent, decodeAssetPath, encodeAssetPath, globMatch, runsWorkerFirst, type AssetConfig } from "../../kit/assets-intent.ts";
import { type AssetRules, applyHeaders, applyRedirects } from "../../kit/assets-rules.ts";

type Env = { CONTROL: Fetcher };

export type VersionAssets = {
  /** path -> content hash */
  manifest: Record<string, string>;
  config: AssetConfig & { run_worker_first?: unknown };
  /** `_redirects` and `_headers`, parsed by the edge when it serves the version. */
  rules: AssetRules;
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
 * The asset-worker's answer for a request under `cfg`, or null when nothing claims it (its "no
 * intent": then the Worker runs, or a bare 404). `_redirects` comes first: a redirect answers at
 * once, a 200 rule serves another path (and a miss there is the assets' own 404, not the Worker's).
 */
async function assetAnswer(env: Env, a: VersionAssets, request: Request, cfg: AssetConfig): Promise<Response | null> {
  const url = new URL(request.url);
  const redirected = applyRedirects(a.rules.redirects, request);
  if (redirected instanceof Response) return redirected;
  const pathname = redirected ? redirected.rewrite : url.pathname;
  const decoded = decodeAssetPath(pathname);
  const intent = assetIntent(decoded, cfg, (p) => a.manifest[p]);
  if (!intent) return redirected ? new Response(null, { status: 404 }) : null;
  const method = request.method.toUpperCase();
  if (method !== "GET" && method !== "HEAD") return new Response("Method Not Allowed", { status: 405 });
  const destination = "redirect" in intent ? intent.redirect : decoded;
  const encoded = encodeAssetPath(destination);
  if ("redirect" in intent || encoded !== pathname) return new Response(null, { status: 307, headers: { location: encoded + url.search } });
  const file = await blob(env, intent.hash);
  if (!file) return new Response("The asset's content is missing from the local edge's store.", { status: 500 });
  const etag = `"${intent.hash}"`;
  const headers = new Headers({ etag, "cache-control": "public, max-age=0, must-revalidate" });
  if (file.type) headers.set("content-type", file.type);
  const inm = request.headers.get("if-none-match");
  if (inm === etag || inm === `W/${etag}`) return new Response(null, { status: 304, headers });
  return new Response(method === "HEAD" ? null : file.body, { status: intent.status, headers });
}

/** The asset-worker's fetch: its answer with the full config (a bare 404 when none), plus `_headers`. */
async function fetchAssets(env: Env, a: VersionAssets, request: Request): Promise<Response> {
  const answer = (await assetAnswer(env, a, request, a.config)) ?? new Response(null, { status: 404 });
  return applyHeaders(a.rules.headers, request, answer);
}

/**
 * The router's order for a version with assets (workers-shared router-worker): run_worker_first
 * rules first (a `!/…` rule sends the path to the assets, a plain one to the Worker); `true` runs
 * the Worker for everything; otherwise the assets when they claim the path, else the Worker. With
 * rules (static routing), or for a navigation request where the compatibility date says so, "claim"
 * includes not_found_handling, so a 404 page or an SPA shell answers rather than the Worker.
 */
export async function serveWithAssets(
  env: Env,
  versionId: string,
  request: Request,
  runWorker: () => Promise<Response>,
): Promise<Response> {
  const a = await versionAssets(env, versionId);
  if (!a.hasWorker) return fetchAssets(env, a, request);
  const path = new URL(request.url).pathname;
  const rules = a.config.run_worker_first;
  const staticRouting = Array.isArray(rules);
  if (staticRouting) {
    const patterns = rules.filter((r): r is string => typeof r === "string");
    if (patterns.some((r) => r.startsWith("!") && globMatch(r.slice(1), path))) return fetchAssets(env, a, request);
    if (patterns.some((r) => !r.startsWith("!") && globMatch(r, path))) return runWorker();
  } else if (runsWorkerFirst(rules, path)) return runWorker();
  const navigate = a.navigationPrefersAssets && request.headers.get("sec-fetch-mode") === "navigate";
  const probe: AssetConfig = staticRouting || navigate ? a.config : { ...a.config, not_found_handling: "none" };
  const claimed = await assetAnswer(env, a, new Request(request.url, { method: request.method, headers: request.headers }), probe);
  return claimed ? fetchAssets(env, a, request) : runWorker();
}

/** `env.ASSETS`: the version's assets with its full not_found_handling, whatever run_worker_first says. */
export class AssetsBinding extends WorkerEntrypoint<Env> {
  override async fetch(request: Request): Promise<Response> {
    const versionId = (this.ctx as unknown as { props: { versionId: string } }).props.versionId;
    const a = await versionAssets(this.env, versionId);
    return fetchAssets(this.env, a, request);
  }
}
