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
      viewer: z.looseObject({ accounts: z.array(z.looseObject({})) }).nullish(),
    })
    .nullish(),
  errors: z.array(z.looseObject({ message: z.string().optional() })).nullish(),
});

/** Cloudflare's cap on rows per query. */
export const MAX_ANALYTICS_ROWS = 10_000;

/** One version's invocations over a window: totals (quantiles over the whole window) and per minute. */
export type VersionInvocations = {
  versionId: string;
  requests: number;
  errors: number;
  wallTimeP50Ms: number | null;
  wallTimeP99Ms: number | null;
  minutes: Array<Omit<InvocationMinute, "script">>;
};

const VersionTotalSchema = z.looseObject({
  sum: z.looseObject({ requests: z.number(), errors: z.number() }),
  quantiles: z.looseObject({ wallTimeP50: num, wallTimeP99: num }).nullish(),
});
const VersionMinuteSchema = VersionTotalSchema.extend({ dimensions: z.looseObject({ datetimeMinute: z.string() }) });

const ms = (us: number | null | undefined) => (typeof us === "number" ? us / 1000 : null);

function rowsOf<T extends z.ZodType>(schema: T, value: unknown): Array<z.output<T>> {
  const rows = z.array(schema).nullish().safeParse(value);
  if (!rows.success)
    throw new CboError("ERR_CF_RESPONSE", "Cloudflare GraphQL analytics answered rows of an unexpected shape.", {
      details: { method: "POST", path: "/graphql" },
    });
  return rows.data ?? [];
}

export function createAnalyticsApi(ctx: ApiContext) {
  /** One GraphQL query; its `data.viewer.accounts[0]` or a CboError in Cloudflare's words. */
  async function query(q: string, variables: Record<string, unknown>): Promise<Record<string, unknown>> {
    const where = { method: "POST", path: "/graphql" };
    const res = await ctx.raw("POST", "/graphql", {
      endpoint: "graphql.workersInvocationsAdaptive",
      body: { query: q, variables },
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
    return (parsed.data.data?.viewer?.accounts[0] ?? {}) as Record<string, unknown>;
  }

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
      const account = await query(QUERY, { accountTag, filter, limit: Math.min(q.limit ?? MAX_ANALYTICS_ROWS, MAX_ANALYTICS_ROWS) });
      const rows = rowsOf(RowSchema, account.workersInvocationsAdaptive);
      return rows.map((r) => ({
        script: r.dimensions.scriptName,
        minute: new Date(r.dimensions.datetimeMinute).toISOString(),
        requests: r.sum.requests,
        errors: r.sum.errors,
        wallTimeP50Ms: r.sum.requests > 0 ? ms(r.quantiles?.wallTimeP50) : null,
        wallTimeP99Ms: r.sum.requests > 0 ? ms(r.quantiles?.wallTimeP99) : null,
      }));
    },

    /**
     * Per version of one script, each over its own window [from, to): totals with wall-time
     * quantiles over the whole window, and its minutes; one query for all (aliases), filtered by the
     * `scriptVersion` dimension (README "Canary analysis data": in the production schema, not in
     * Cloudflare's docs). An account whose schema lacks it answers an error naming the field.
     */
    async workersInvocationsOfVersions(q: {
      script: string;
      windows: Array<{ versionId: string; from: Date; to: Date }>;
    }): Promise<VersionInvocations[]> {
      const accountTag = await ctx.accountId();
      const parts = q.windows.map((_w, i) => {
        const filter = `{scriptName: $script, scriptVersion: $v${i}, datetime_geq: $from${i}, datetime_lt: $to${i}}`;
        return `t${i}: workersInvocationsAdaptive(limit: 1, filter: ${filter}) { sum { requests errors } quantiles { wallTimeP50 wallTimeP99 } }
      m${i}: workersInvocationsAdaptive(limit: 1000, filter: ${filter}, orderBy: [datetimeMinute_ASC]) { sum { requests errors } quantiles { wallTimeP50 wallTimeP99 } dimensions { datetimeMinute } }`;
      });
      const decl = q.windows.map((_, i) => `$v${i}: string!, $from${i}: Time!, $to${i}: Time!`).join(", ");
      const text = `query WorkersInvocationsOfVersions($accountTag: string!, $script: string!, ${decl}) {
  viewer { accounts(filter: {accountTag: $accountTag}) {
      ${parts.join("\n      ")}
  } } }`;
      const variables: Record<string, unknown> = { accountTag, script: q.script };
      q.windows.forEach((w, i) => {
        variables[`v${i}`] = w.versionId;
        variables[`from${i}`] = w.from.toISOString();
        variables[`to${i}`] = w.to.toISOString();
      });
      const account = await query(text, variables);
      return q.windows.map((w, i) => {
        const total = rowsOf(VersionTotalSchema, account[`t${i}`])[0];
        const minutes = rowsOf(VersionMinuteSchema, account[`m${i}`]);
        const requests = total?.sum.requests ?? 0;
        return {
          versionId: w.versionId,
          requests,
          errors: total?.sum.errors ?? 0,
          wallTimeP50Ms: requests > 0 ? ms(total?.quantiles?.wallTimeP50) : null,
          wallTimeP99Ms: requests > 0 ? ms(total?.quantiles?.wallTimeP99) : null,
          minutes: minutes.map((r) => ({
            minute: new Date(r.dimensions.datetimeMinute).toISOString(),
            requests: r.sum.requests,
            errors: r.sum.errors,
            wallTimeP50Ms: r.sum.requests > 0 ? ms(r.quantiles?.wallTimeP50) : null,
            wallTimeP99Ms: r.sum.requests > 0 ? ms(r.quantiles?.wallTimeP99) : null,
          })),
        };
      });
    },
  };
}
