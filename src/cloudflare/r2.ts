// R2 buckets (CLOUDFLARE-API-FLEET §2.1). A bucket is named within its jurisdiction: every call
// for an `eu` or `fedramp` bucket carries `cf-r2-jurisdiction`, as wrangler's do; without it the
// default jurisdiction is meant. Create takes camelCase keys (`locationHint`, `storageClass`).
// A missing bucket is 404 with code 10006; getR2Bucket answers null for it.
import * as z from "zod";
import { CF_ERROR, nullIfMissing } from "./codes.ts";
import { type ApiContext, seg, validate } from "./context.ts";
import { R2BucketListSchema, R2BucketSchema, type R2Bucket } from "./schemas-data.ts";

export type R2Jurisdiction = "default" | "eu" | "fedramp";
export type R2LocationHint = "weur" | "eeur" | "apac" | "wnam" | "enam" | "oc";
export type R2StorageClass = "Standard" | "InfrequentAccess";

export type R2Options = { jurisdiction?: R2Jurisdiction | string };

/** Buckets are listed a page at a time, following `result_info.cursor` when the API gives one. */
const MAX_BUCKET_PAGES = 1000;
const CursorInfo = z.looseObject({ cursor: z.string().nullish() }).nullish();

const jurisdictionHeader = (j: string | undefined): Record<string, string> =>
  j === undefined || j === "default" ? {} : { "cf-r2-jurisdiction": j };

export function createR2Api(ctx: ApiContext) {
  const base = async () => `/accounts/${seg(await ctx.accountId())}/r2/buckets`;

  return {
    /** The buckets of one jurisdiction (default: the default one). */
    async listR2Buckets(opts: R2Options & { nameContains?: string } = {}): Promise<R2Bucket[]> {
      const path = await base();
      const all: R2Bucket[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < MAX_BUCKET_PAGES; page++) {
        const answer = await ctx.envelope("GET", path, {
          endpoint: "r2.buckets.list",
          query: { per_page: 1000, cursor, name_contains: opts.nameContains },
          headers: jurisdictionHeader(opts.jurisdiction),
        });
        const { buckets } = validate(R2BucketListSchema, answer.result, answer.where);
        all.push(...buckets);
        const next = CursorInfo.safeParse(answer.resultInfo);
        const nextCursor = next.success ? next.data?.cursor : undefined;
        if (!nextCursor || buckets.length === 0 || nextCursor === cursor) break;
        cursor = nextCursor;
      }
      return all;
    },

    /** Null when the jurisdiction has no bucket of that name (10006). */
    async getR2Bucket(name: string, opts: R2Options = {}): Promise<R2Bucket | null> {
      return nullIfMissing(
        ctx.json("GET", `${await base()}/${seg(name)}`, R2BucketSchema, {
          endpoint: "r2.buckets.get",
          headers: jurisdictionHeader(opts.jurisdiction),
        }),
        CF_ERROR.R2_NO_SUCH_BUCKET,
      );
    },

    /** A taken name is refused with 10073 (409), a bad one with 10005. */
    async createR2Bucket(
      name: string,
      opts: R2Options & { locationHint?: R2LocationHint; storageClass?: R2StorageClass } = {},
    ): Promise<R2Bucket> {
      const body = {
        name,
        ...(opts.locationHint === undefined ? {} : { locationHint: opts.locationHint }),
        ...(opts.storageClass === undefined ? {} : { storageClass: opts.storageClass }),
      };
      const created = await ctx.json("POST", await base(), R2BucketSchema.partial({ name: true }), {
        endpoint: "r2.buckets.create",
        body,
        headers: jurisdictionHeader(opts.jurisdiction),
      });
      return { ...created, name: created.name ?? name };
    },

    /** A missing bucket is refused with 10006, one still holding objects with 10008. */
    async deleteR2Bucket(name: string, opts: R2Options = {}): Promise<void> {
      await ctx.json("DELETE", `${await base()}/${seg(name)}`, z.unknown(), {
        endpoint: "r2.buckets.delete",
        headers: jurisdictionHeader(opts.jurisdiction),
      });
    },
  };
}
