// Static asset uploads (CLOUDFLARE-API-FLEET §6): the upload session answers the hashes of the
// manifest that the account does not hold yet, in buckets, with an upload JWT; the bulk upload
// endpoint takes a bucket per call (authorised by that JWT, not the API token) and answers the
// completion JWT once the session's every hash is stored. Blobs are shared per account, so a
// redeploy with one changed file uploads exactly that file.
import { Hono, type Context } from "hono";
import { hexId } from "../../kit/ids.ts";
import { CF_CODES, CfApiError, badRequest, envelope, ok } from "./envelope.ts";
import { readJson } from "./json-body.ts";
import type { WorkerStores } from "../state/worker-stores.ts";
import type { AssetManifest } from "../state/version-extras.ts";
import type { AssetTokens } from "./asset-tokens.ts";
import type { EdgeEnv } from "./routes-workers.ts";

const MAX_ASSET_BYTES = 25 * 1024 * 1024;
const MAX_ASSETS = 100_000;
/** Upload buckets: wrangler sends each as one request, up to three at a time. */
const BUCKET_MAX_FILES = 50;
const BUCKET_MAX_BYTES = 40 * 1024 * 1024;
const SESSION_TTL_MS = 24 * 3600_000;

function parseManifest(body: unknown): AssetManifest {
  const manifest = (body as { manifest?: unknown })?.manifest;
  if (!manifest || typeof manifest !== "object" || Array.isArray(manifest))
    throw badRequest('The body needs `manifest`: {"/path": {"hash": "<32 hex>", "size": <bytes>}, …}.');
  const entries = Object.entries(manifest as Record<string, unknown>);
  if (entries.length > MAX_ASSETS) throw badRequest(`A manifest may hold at most ${MAX_ASSETS} assets; this one has ${entries.length}.`);
  const out: AssetManifest = {};
  for (const [path, e] of entries) {
    const { hash, size } = (e ?? {}) as { hash?: unknown; size?: unknown };
    if (!path.startsWith("/")) throw badRequest(`Asset path "${path}" must start with "/".`);
    if (typeof hash !== "string" || !/^[0-9a-f]{32}$/.test(hash)) throw badRequest(`Asset "${path}" needs a 32-hex "hash".`);
    if (typeof size !== "number" || !Number.isInteger(size) || size < 0) throw badRequest(`Asset "${path}" needs a byte "size".`);
    if (size > MAX_ASSET_BYTES) throw badRequest(`Asset "${path}" is ${size} bytes; the limit is ${MAX_ASSET_BYTES} (25 MiB).`);
    out[path] = { hash, size };
  }
  return out;
}

export function assetsRoutes(deps: { stores: WorkerStores; assetTokens: AssetTokens }) {
  const { assets } = deps.stores;
  const tokens = deps.assetTokens;
  const app = new Hono<EdgeEnv>();

  app.post("/workers/scripts/:name/assets-upload-session", async (c) => {
    const manifest = parseManifest(await readJson(c));
    const acct = c.var.account.id;
    const sizes = new Map<string, number>();
    for (const e of Object.values(manifest)) if (!assets.has(acct, e.hash)) sizes.set(e.hash, e.size);
    const sid = hexId();
    assets.pruneSessions(new Date(Date.now() - SESSION_TTL_MS).toISOString());
    assets.insertSession({ id: sid, account_id: acct, script: c.req.param("name"), manifest, created_on: new Date().toISOString() });
    if (sizes.size === 0) return ok(c, { jwt: tokens.issue({ sid, acct, phase: "complete" }), buckets: [] });
    const buckets: string[][] = [];
    let bytes = 0;
    for (const [hash, size] of sizes) {
      const last = buckets[buckets.length - 1];
      if (!last || last.length >= BUCKET_MAX_FILES || bytes + size > BUCKET_MAX_BYTES) {
        buckets.push([hash]);
        bytes = size;
      } else {
        last.push(hash);
        bytes += size;
      }
    }
    return ok(c, { jwt: tokens.issue({ sid, acct, phase: "upload" }), buckets });
  });

  /** The session behind the request's upload JWT (it replaces the API token on these calls). */
  const sessionOf = (c: Context<EdgeEnv>) => {
    const auth = c.req.header("authorization") ?? "";
    const claims = auth.startsWith("Bearer ") ? tokens.verify(auth.slice(7).trim(), "upload") : undefined;
    if (!claims || claims.acct !== c.var.account.id)
      throw new CfApiError(401, CF_CODES.AUTH, "Authentication error: the assets upload token is missing, invalid or expired.");
    const session = assets.session(claims.sid);
    if (!session) throw new CfApiError(401, CF_CODES.AUTH, "Authentication error: the assets upload session has expired; start a new one.");
    return session;
  };
  const finish = (c: Context<EdgeEnv>, sid: string, manifest: AssetManifest) => {
    const done = Object.values(manifest).every((e) => assets.has(c.var.account.id, e.hash));
    return done ? c.json(envelope({ jwt: tokens.issue({ sid, acct: c.var.account.id, phase: "complete" }) }), 201) : ok(c, {});
  };
  const contentType = (t: string | null | undefined) => (!t || t.startsWith("application/null") ? null : t);

  app.post("/workers/assets/upload", async (c) => {
    const session = sessionOf(c);
    const wanted = new Set(Object.values(session.manifest).map((e) => e.hash));
    const base64 = c.req.query("base64") === "true";
    let form: FormData;
    try {
      form = await c.req.raw.formData();
    } catch {
      throw badRequest("The upload must be multipart/form-data with one part per file, named by its hash.");
    }
    for (const [hash, value] of form.entries()) {
      if (!wanted.has(hash)) throw badRequest(`"${hash}" is not a hash of this upload session's manifest.`);
      const raw = typeof value === "string" ? value : await value.text();
      const content = base64
        ? new Uint8Array(Buffer.from(raw, "base64"))
        : typeof value === "string"
          ? new TextEncoder().encode(value)
          : new Uint8Array(await value.arrayBuffer());
      if (content.length > MAX_ASSET_BYTES) throw badRequest(`Asset ${hash} is over 25 MiB.`);
      assets.put(c.var.account.id, hash, contentType(typeof value === "string" ? null : value.type), content);
    }
    return finish(c, session.id, session.manifest);
  });

  // Single-file mode (wrangler 4.1xx, only when the upload JWT asks for it; ours never does).
  app.post("/workers/assets/upload/:hash", async (c) => {
    const session = sessionOf(c);
    const hash = c.req.param("hash");
    if (!Object.values(session.manifest).some((e) => e.hash === hash))
      throw badRequest(`"${hash}" is not a hash of this upload session's manifest.`);
    assets.put(c.var.account.id, hash, contentType(c.req.header("content-type")), new Uint8Array(await c.req.arrayBuffer()));
    return finish(c, session.id, session.manifest);
  });
  return app;
}
