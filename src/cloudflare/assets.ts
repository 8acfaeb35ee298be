// Static assets upload (CLOUDFLARE-API-FLEET §6.2-6.3), as wrangler's syncAssets:
//   session  POST …/scripts/:name/assets-upload-session {manifest} -> {jwt, buckets}: the hashes
//            the account does not hold yet, grouped; no buckets means the jwt already completes
//   upload   per bucket, POST /workers/assets/upload?base64=true authorised by the session's jwt
//            (not the API token): multipart, one part per hash (name and filename = hash, the
//            base64 of the file, the file's MIME type or application/null); up to 3 at a time
//   done     the answer carrying a jwt is the completion token the version metadata needs
// The manifest is the build layer's (src/build/assets-manifest.ts).
import { CboError } from "../kit/errors.ts";
import { type ApiContext, seg } from "./context.ts";
import { AssetsUploadResultSchema, AssetsUploadSessionSchema } from "./schemas-scripts.ts";

export type AssetManifest = Record<string, { hash: string; size: number }>;

export type AssetsUploadSession = {
  /** The upload token, or the completion token when `buckets` is empty. */
  jwt: string;
  /** Hashes to upload, one request per bucket. */
  buckets: string[][];
};

export type AssetContent = { content: Uint8Array; contentType: string | null };

export type AssetsSync = {
  /** The completion token: `assets.jwt` of the version upload. */
  jwt: string;
  /** Files sent (hashes the account did not hold). */
  uploaded: number;
  /** Manifest entries already held. */
  skipped: number;
};

/** Buckets uploading at once (wrangler's BULK_UPLOAD_CONCURRENCY). */
export const ASSET_UPLOAD_CONCURRENCY = 3;

export function createAssetsApi(ctx: ApiContext) {
  const account = async () => `/accounts/${seg(await ctx.accountId())}`;

  const api = {
    async createAssetsUploadSession(script: string, manifest: AssetManifest): Promise<AssetsUploadSession> {
      const answer = await ctx.json(
        "POST",
        `${await account()}/workers/scripts/${seg(script)}/assets-upload-session`,
        AssetsUploadSessionSchema,
        {
          endpoint: "workers.assets.upload-session",
          body: { manifest },
        },
      );
      return { jwt: answer.jwt, buckets: answer.buckets ?? [] };
    },

    /** One bucket, authorised by the session's upload token; the completion token once the session is complete. */
    async uploadAssetsBucket(uploadJwt: string, files: Array<{ hash: string } & AssetContent>): Promise<string | null> {
      const form = new FormData();
      for (const f of files) {
        const base64 = Buffer.from(f.content.buffer, f.content.byteOffset, f.content.byteLength).toString("base64");
        // A falsy type would become application/octet-stream on the wire: application/null means "none".
        form.append(f.hash, new File([base64], f.hash, { type: f.contentType ?? "application/null" }), f.hash);
      }
      const answer = await ctx.json("POST", `${await account()}/workers/assets/upload`, AssetsUploadResultSchema, {
        endpoint: "workers.assets.upload",
        query: { base64: true },
        body: form,
        headers: { authorization: `Bearer ${uploadJwt}` },
      });
      return answer?.jwt || null;
    },

    /**
     * Uploads what the account lacks of `manifest` and answers the completion token. `load`
     * gives a file's bytes and type by hash (called once per hash to upload).
     */
    async syncAssets(
      script: string,
      manifest: AssetManifest,
      load: (hash: string) => Promise<AssetContent>,
      opts: { concurrency?: number } = {},
    ): Promise<AssetsSync> {
      const session = await api.createAssetsUploadSession(script, manifest);
      return api.uploadAssetsSession(script, session, manifest, load, opts);
    },

    /**
     * The uploads of a session already opened (createAssetsUploadSession): each bucket it asked
     * for, up to `concurrency` at once; the completion token at the end (the session's own token
     * when it asked for nothing).
     */
    async uploadAssetsSession(
      script: string,
      session: AssetsUploadSession,
      manifest: AssetManifest,
      load: (hash: string) => Promise<AssetContent>,
      opts: { concurrency?: number } = {},
    ): Promise<AssetsSync> {
      const total = Object.keys(manifest).length;
      if (session.buckets.length === 0) return { jwt: session.jwt, uploaded: 0, skipped: total };
      const known = new Set(Object.values(manifest).map((e) => e.hash));
      const requested = session.buckets.flat();
      const stranger = requested.find((h) => !known.has(h));
      if (stranger !== undefined) {
        throw new CboError(
          "ERR_CF_RESPONSE",
          `The assets upload session of ${script} asked for ${stranger}, a hash that is not in the manifest`,
          { details: { script, hash: stranger } },
        );
      }
      let completion: string | null = null;
      let next = 0;
      const worker = async () => {
        while (next < session.buckets.length) {
          const bucket = session.buckets[next++]!;
          const files = await Promise.all(bucket.map(async (hash) => ({ hash, ...(await load(hash)) })));
          const jwt = await api.uploadAssetsBucket(session.jwt, files);
          if (jwt) completion = jwt;
        }
      };
      const width = Math.max(1, Math.min(opts.concurrency ?? ASSET_UPLOAD_CONCURRENCY, session.buckets.length));
      await Promise.all(Array.from({ length: width }, worker));
      if (completion === null) {
        throw new CboError("ERR_CF_RESPONSE", `The assets upload of ${script} ended without a completion token`, {
          details: { script, buckets: session.buckets.length },
        });
      }
      return { jwt: completion, uploaded: requested.length, skipped: total - requested.length };
    },
  };
  return api;
}
