// POST /client/v4/graphql: Cloudflare's GraphQL Analytics API for the Workers invocations the
// edge counted (graphql/). The account named by `accountTag` gets the same treatment as its REST
// calls: counted, its region's injected faults applied (outage 503, latency, rate limit 429), plus
// `analyticsLagSec`, the delay before a minute shows. Before reading, the region's router hands
// over what it counted, so an answer includes every request served before the query.
import { Hono } from "hono";
import { sleep } from "../../kit/backoff.ts";
import type { AccountStore } from "../state/accounts.ts";
import type { InvocationStore } from "../state/invocations.ts";
import type { Faults } from "../faults.ts";
import { GraphqlError, graphqlErrorResponse } from "../graphql/errors.ts";
import { executeGraphql, GraphqlRequestSchema, type AccountResolver } from "../graphql/execute.ts";
import type { D1QueryRow, D1UsageRow, R2StorageRow } from "../graphql/storage-datasets.ts";
import { deeperThan } from "./json-body.ts";
import { LIMITS } from "./limits.ts";

export type GraphqlDeps = {
  accounts: AccountStore;
  faults: Faults;
  countRequest: (accountId: string) => void;
  invocations: InvocationStore;
  /** Drains the account's router into the store. */
  drain: (accountId: string) => Promise<void>;
  retentionMs: number;
  coloCode: (region: string) => string;
  /** The account's D1 database's hours (d1/usage.ts); undefined when the account has no such database. */
  d1Usage?: (accountId: string, databaseId: string, fromMs: number, toMs: number) => D1UsageRow[] | undefined;
  /** Per query text, the account's databases (one, or all when databaseId is undefined). */
  d1Queries?: (accountId: string, databaseId: string | undefined, fromMs: number, toMs: number) => D1QueryRow[];
  /** What the account's bucket (`<jurisdiction>_<name>` in a jurisdiction) stores now. */
  r2Storage?: (accountId: string, bucketName: string) => R2StorageRow | undefined;
};

export function graphqlRoutes(deps: GraphqlDeps) {
  const app = new Hono();
  const resolve: AccountResolver = async (tag, path) => {
    const account = deps.accounts.get(tag);
    if (!account) throw new GraphqlError("not authorized for that account", 403, path);
    deps.countRequest(account.id);
    if (deps.faults.rateLimited(account.region) !== undefined)
      throw new GraphqlError("rate limiter budget depleted, try again after 5 minutes", 429, path);
    const fault = deps.faults.get(account.region);
    if (fault.latencyMs) await sleep(fault.latencyMs);
    if (fault.outage) throw new GraphqlError("unable to execute query, please try again later", 503, path);
    await deps.drain(account.id);
    return {
      coloCode: deps.coloCode(account.region),
      rows: (q) => deps.invocations.rows({ ...q, accountId: account.id }),
      now: Date.now(),
      retentionMs: deps.retentionMs,
      lagMs: (fault.analyticsLagSec ?? 0) * 1000,
      ...(deps.d1Usage ? { d1Usage: (id: string, from: number, to: number) => deps.d1Usage!(account.id, id, from, to) } : {}),
      ...(deps.d1Queries
        ? { d1Queries: (id: string | undefined, from: number, to: number) => deps.d1Queries!(account.id, id, from, to) }
        : {}),
      ...(deps.r2Storage ? { r2Storage: (bucket: string) => deps.r2Storage!(account.id, bucket) } : {}),
    };
  };

  app.post("/graphql", async (c) => {
    try {
      let body: unknown;
      try {
        body = JSON.parse(await c.req.text());
      } catch {
        throw new GraphqlError('the request body must be JSON: {"query": "…", "variables": {…}}');
      }
      if (deeperThan(body, LIMITS.jsonDepth)) throw new GraphqlError(`the request body nests deeper than ${LIMITS.jsonDepth} levels`);
      const req = GraphqlRequestSchema.safeParse(body);
      if (!req.success) {
        const i = req.error.issues[0]!;
        throw new GraphqlError(`the request body's ${i.path.join(".") || "value"} is not valid: ${i.message}`);
      }
      return c.json(await executeGraphql(req.data, resolve));
    } catch (e) {
      if (e instanceof GraphqlError) return graphqlErrorResponse(e);
      throw e;
    }
  });
  return app;
}
