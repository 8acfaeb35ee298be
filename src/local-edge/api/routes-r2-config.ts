// /accounts/:acct/r2/buckets/:bucket/{cors,lifecycle,lock}: a bucket's rule lists, as
// `wrangler r2 bucket cors|lifecycle|lock …` read and write them (always the whole list; wrangler's
// add and remove are a GET and a PUT). Stored and served; of their effects only lifecycle's abort
// of incomplete multipart uploads is carried out (state/r2-lifecycle.ts), not CORS headers (no
// public buckets here), object expiry, storage-class transitions or lock retention.
import { Hono, type Context } from "hono";
import type { R2ConfigKind, R2Store } from "../state/r2.ts";
import { ok } from "./envelope.ts";
import { readJson } from "./json-body.ts";
import { DEFAULT_LIFECYCLE_RULES } from "../state/r2-lifecycle.ts";
import { parseBucketRules } from "./r2-bucket-rules.ts";
import { bucketLookup } from "./routes-r2.ts";
import type { EdgeEnv } from "./routes-workers.ts";

export function r2ConfigRoutes(deps: { r2: R2Store }) {
  const { r2 } = deps;
  const app = new Hono<EdgeEnv>();
  const { bucket } = bucketLookup(r2);

  const get = (kind: R2ConfigKind, fallback: unknown[]) => (c: Context<EdgeEnv>) =>
    ok(c, { rules: r2.getConfig(bucket(c).id, kind) ?? fallback });
  const put = (kind: R2ConfigKind) => async (c: Context<EdgeEnv>) => {
    const b = bucket(c);
    r2.setConfig(b.id, kind, parseBucketRules(kind, await readJson(c)));
    return ok(c, {});
  };

  // A bucket without CORS rules answers an empty list, which `wrangler r2 bucket cors list` shows
  // as "no CORS configuration" (whether Cloudflare answers 404 instead is unconfirmed).
  app.get("/r2/buckets/:bucket/cors", get("cors", []));
  app.put("/r2/buckets/:bucket/cors", put("cors"));
  app.delete("/r2/buckets/:bucket/cors", (c) => {
    r2.deleteConfig(bucket(c).id, "cors");
    return ok(c, {});
  });
  // `cf-r2-data-catalog-check` (sent unless --force) asks Cloudflare to refuse a change that would
  // break an R2 Data Catalog; the edge has no data catalog, so there is nothing to check.
  app.get("/r2/buckets/:bucket/lifecycle", get("lifecycle", DEFAULT_LIFECYCLE_RULES));
  app.put("/r2/buckets/:bucket/lifecycle", put("lifecycle"));
  app.get("/r2/buckets/:bucket/lock", get("lock", []));
  app.put("/r2/buckets/:bucket/lock", put("lock"));
  return app;
}
