// Workers invocation analytics through Cloudflare's GraphQL Analytics API
// (`workersInvocationsAdaptive`, account-scoped; README "Canary analysis data"): requests, errors
// and wall-time quantiles per script and minute. POST <base>/graphql with the normal token; the
// answer is raw GraphQL (`{data, errors}`), not the v4 envelope. Kept to its own file: the canary
// analysis of issue 15 reads the same dataset per version.
import * as z from "zod";
import { CboError } from "../kit/errors.ts";
import type { ApiContext } from "./context.ts";
import { cloudflareApiError, codeForStatus } from "./errors.ts";
import { responseInfo } from "./transport.ts";

/** One script's minute (all statuses together). Times in ms; wall-time quantiles are µs at Cloudflare. */
export type InvocationMinute = {
  script: string;
  /** The minute's start, ISO 8601. */
  minute: string;
  requests: number;
  errors: number;
  wallTimeP50Ms: number | null;
  wallTimeP99Ms: number | null;
};

const QUERY = `query WorkersInvocationsByMinute($accountTag: string!, $filter: AccountWorkersInvocationsAdaptiveFilter_InputObject!, $limit: uint64!) {
  viewer { accounts(filter: {accountTag: $accountTag}) {
    workersInvocationsAdaptive(limit: $limit, filter: $filter, orderBy: [datetimeMinute_ASC]) {
      sum { requests errors }
      quantiles { wallTimeP50 wallTimeP99 }
      dimensions { datetimeMinute scriptName }
    } } } }`;

const num = z.number().nullish();
const RowSchema = z.looseObject({
  sum: z.looseObject({ requests: z.number(), errors: z.number() }),
  quantiles: z.looseObject({ wallTimeP50: num, wallTimeP99: num }).nullish(),
  dimensions: z.looseObject({ datetimeMinute: z.string(), scriptName: z.string() }),
});
const AnswerSchema = z.looseObject({
  data: z
    .looseObject({
      viewer: z.looseObject({ accounts: z.array(z.looseObject({ workersInvocationsAdaptive: z.array(RowSchema).nullish() })) }).nullish(),
    })
    .nullish(),
  errors: z.array(z.looseObject({ message: z.string().optional() })).nullish(),
});

/** Cloudflare's cap on rows per query. */
export const MAX_ANALYTICS_ROWS = 10_000;

export function createAnalyticsApi(ctx: ApiContext) {
  return {
    /**
     * Invocations per script and minute in [from, to), all scripts or the ones named. Minute-
     * aligned bounds count whole minutes exactly; Cloudflare's newest minutes fill in late.
     */
    async workersInvocationsByMinute(q: { from: Date; to: Date; scripts?: string[]; limit?: number }): Promise<InvocationMinute[]> {
      const accountTag = await ctx.accountId();
      const filter = {
        datetime_geq: q.from.toISOString(),
        datetime_lt: q.to.toISOString(),
        ...(q.scripts ? { scriptName_in: q.scripts } : {}),
      };
      const where = { method: "POST", path: "/graphql" };
      const res = await ctx.raw("POST", "/graphql", {
        endpoint: "graphql.workersInvocationsAdaptive",
        body: { query: QUERY, variables: { accountTag, filter, limit: Math.min(q.limit ?? MAX_ANALYTICS_ROWS, MAX_ANALYTICS_ROWS) } },
      });
      const text = await res.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      const parsed = AnswerSchema.safeParse(body);
      const messages = parsed.success ? (parsed.data.errors ?? []).map((e) => e.message ?? "") : [];
      if (!res.ok || messages.length > 0) {
        const attempts = responseInfo(res)?.attempts;
        if (!res.ok && !parsed.success)
          throw cloudflareApiError({ ...where, status: res.status, errors: [], bodySnippet: text.slice(0, 200) });
        throw new CboError(
          res.ok ? "ERR_CF_REQUEST" : codeForStatus(res.status),
          `Cloudflare GraphQL analytics: ${messages.join("; ") || `HTTP ${res.status}`}`,
          {
            details: { ...where, status: res.status, graphqlErrors: messages, ...(attempts === undefined ? {} : { attempts }) },
          },
        );
      }
      if (!parsed.success)
        throw new CboError("ERR_CF_RESPONSE", "Cloudflare GraphQL analytics answered with a body that is not a GraphQL result.", {
          details: { ...where, status: res.status },
        });
      const rows = parsed.data.data?.viewer?.accounts[0]?.workersInvocationsAdaptive ?? [];
      const ms = (us: number | null | undefined) => (typeof us === "number" ? us / 1000 : null);
      return rows.map((r) => ({
        script: r.dimensions.scriptName,
        minute: new Date(r.dimensions.datetimeMinute).toISOString(),
        requests: r.sum.requests,
        errors: r.sum.errors,
        wallTimeP50Ms: r.sum.requests > 0 ? ms(r.quantiles?.wallTimeP50) : null,
        wallTimeP99Ms: r.sum.requests > 0 ? ms(r.quantiles?.wallTimeP99) : null,
      }));
    },
  };
}
