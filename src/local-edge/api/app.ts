// The Cloudflare API v4 subset at /client/v4 (CLOUDFLARE-API.md), plus the local edge's own
// admin endpoints at /__edge. Every failure is Cloudflare's envelope with a code: a bug answers
// 500 in the envelope rather than crash the edge.
import { Hono, type Context, type Next } from "hono";
import { bodyLimit } from "hono/body-limit";
import { timingSafeEqual } from "node:crypto";
import type { AccountStore } from "../state/accounts.ts";
import type { ScriptStore } from "../state/scripts.ts";
import type { KvStore } from "../state/kv.ts";
import type { TunnelStore } from "../state/tunnels.ts";
import type { Faults } from "../faults.ts";
import { FaultSchema, type Fault } from "../types.ts";
import { CF_CODES, CfApiError, errorResponse } from "./envelope.ts";
import { LIMITS } from "./limits.ts";
import type { Ops } from "./operations.ts";
import { workersRoutes, type EdgeEnv } from "./routes-workers.ts";
import { kvRoutes } from "./routes-kv.ts";
import { referencesRoutes } from "./routes-references.ts";
import { accountRoutes, identityRoutes } from "./routes-account.ts";
import { createD1Transfers, d1Routes, d1TransferRoutes } from "./routes-d1.ts";
import { r2Routes } from "./routes-r2.ts";
import { r2ConfigRoutes } from "./routes-r2-config.ts";
import { queueRoutes } from "./routes-queues.ts";
import { queueMessageRoutes } from "./routes-queue-messages.ts";
import { cronRoutes } from "./routes-crons.ts";
import type { D1Store } from "../state/d1.ts";
import type { D1Pool } from "../d1/pool.ts";
import type { R2Store } from "../state/r2.ts";
import type { QueueStore } from "../state/queues.ts";
import type { EventOutcome } from "../runtime/region-runtime.ts";
import { sleep } from "../../kit/backoff.ts";
import type { WorkerStores } from "../state/worker-stores.ts";
import type { EdgeDb } from "../state/db.ts";
import type { AssetTokens } from "./asset-tokens.ts";
import { assetsRoutes } from "./routes-assets.ts";
import { durableObjectRoutes } from "./routes-durable-objects.ts";
import { triggersRoutes } from "./routes-triggers.ts";
import { zoneRoutes } from "./routes-zones.ts";
import { graphqlRoutes, type GraphqlDeps } from "./routes-graphql.ts";
import { tailRoutes } from "./routes-tails.ts";
import type { TailHub } from "../tail/hub.ts";
import { GraphqlError, graphqlErrorResponse } from "../graphql/errors.ts";
import { createScopedTokens } from "./scoped-tokens.ts";
import { readJsonObject } from "./json-body.ts";
import { diskFullAnswer } from "./disk-full.ts";

/** The one API call whose body may pass LIMITS.requestBytes: an R2 object's bytes. */
/** What an account id looks like: 32 hex digits. */
const ACCOUNT_ID = /^[0-9a-f]{32}$/;

const R2_OBJECT_PATH = /^\/client\/v4\/accounts\/[^/]+\/r2\/buckets\/[^/]+\/objects\//;

export type ApiDeps = {
  token: string;
  accounts: AccountStore;
  scripts: ScriptStore;
  kv: KvStore;
  tunnels: TunnelStore;
  ops: Ops;
  faults: Faults;
  setFault: (region: string, fault: Fault | null) => Promise<void>;
  info: () => unknown;
  countRequest: (accountId: string) => void;
  log?: (line: string) => void;
  stores: WorkerStores;
  assetTokens: AssetTokens;
  db: EdgeDb;
  /** The edge's data directory: a full disk's answer names it. */
  dataDir?: string;
  /** D1, R2, queues and cron triggers. */
  data?: DataApiDeps;
  /** The GraphQL Analytics API over the invocations the routers counted. */
  analytics?: Omit<GraphqlDeps, "accounts" | "faults" | "countRequest">;
  /** Tail sessions, and how to push an account's routing table when they change. */
  tails?: { hub: TailHub; notify: (accountId: string) => Promise<void> };
};

export type DataApiDeps = {
  d1: D1Store;
  d1Pool: D1Pool;
  r2: R2Store;
  queues: QueueStore;
  /** Queues or consumers changed: wake the delivery loop. */
  queuesChanged: () => void;
  /** Fires a scheduled event on a Worker's live version in a region. */
  fire: (region: string, script: string, cron: string, scheduledTime: number) => Promise<EventOutcome>;
};

/** GraphQL answers in its own shape, auth errors included (graphql/errors.ts). */
const GRAPHQL_PATH = "/client/v4/graphql";

/** Asset uploads carry the upload session's JWT instead of the API token (routes-assets.ts checks it). */
const ASSET_UPLOAD_PATH = /^\/client\/v4\/accounts\/[^/]+\/workers\/assets\/upload(\/[^/]+)?$/;

function sameToken(given: string, expected: string): boolean {
  // An empty token is no credential, even against an empty expected one.
  if (given === "" || expected === "") return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function createApiApp(deps: ApiDeps) {
  const app = new Hono<EdgeEnv>();

  app.onError((err) => {
    if (err instanceof CfApiError) return errorResponse(err);
    const full = diskFullAnswer(err, deps.dataDir);
    if (full) {
      deps.log?.(`local-edge: ${full.message}`);
      return errorResponse(full);
    }
    deps.log?.(`local-edge: unexpected error: ${err instanceof Error ? err.message : String(err)}`);
    return errorResponse(new CfApiError(500, CF_CODES.INTERNAL, "The local edge hit an internal error; see its log."));
  });
  app.notFound((c) =>
    errorResponse(
      new CfApiError(
        404,
        CF_CODES.NO_ROUTE,
        `Could not route to ${new URL(c.req.url).pathname}, perhaps your object identifier is invalid?`,
      ),
    ),
  );

  const presented = (h: (name: string) => string | undefined) => {
    const auth = h("authorization");
    return auth?.startsWith("Bearer ") ? auth.slice(7).trim() : h("x-auth-key");
  };
  const authorized = (h: (name: string) => string | undefined) => {
    const token = presented(h);
    return token !== undefined && sameToken(token, deps.token);
  };
  // Tokens scoped to some accounts (scoped-tokens.ts): the Cloudflare API only, never /__edge.
  const scoped = createScopedTokens();
  const ACCOUNT_PATH = /^\/client\/v4\/accounts\/([^/]+)/;

  app.use("/client/v4/*", async (c, next) => {
    if (ASSET_UPLOAD_PATH.test(c.req.path)) return next();
    if (!authorized((n) => c.req.header(n))) {
      const token = presented((n) => c.req.header(n));
      const accounts = token === undefined ? undefined : scoped.accountsOf(token);
      if (!accounts) {
        if (c.req.path === GRAPHQL_PATH) return graphqlErrorResponse(new GraphqlError("Unauthorized", 401));
        throw new CfApiError(401, CF_CODES.AUTH, "Authentication error");
      }
      const acct = ACCOUNT_PATH.exec(c.req.path)?.[1];
      // Cloudflare's answer to a valid token without permission on the account.
      if (acct !== undefined && !accounts.has(acct)) throw new CfApiError(403, CF_CODES.AUTH, "Authentication error");
      c.set("scopedAccounts", accounts);
    }
    await next();
  });
  app.use("/__edge/*", async (c, next) => {
    if (!authorized((n) => c.req.header(n))) throw new CfApiError(401, CF_CODES.AUTH, "Authentication error");
    await next();
  });
  // Refused from Content-Length alone when it says too much, else counted as it streams in: a
  // 110 MB bulk write is a 413 before it is held in memory.
  const limit = bodyLimit({
    maxSize: LIMITS.requestBytes,
    onError: () => {
      throw new CfApiError(413, CF_CODES.REQUEST_TOO_LARGE, `Request body is larger than ${LIMITS.requestBytes / 1024 / 1024} MiB.`);
    },
  });
  const objectLimit = bodyLimit({
    maxSize: LIMITS.r2ObjectBytes,
    onError: () => {
      throw new CfApiError(
        413,
        CF_CODES.REQUEST_TOO_LARGE,
        `An R2 object uploaded through the API is at most ${LIMITS.r2ObjectBytes / 1024 / 1024} MiB.`,
      );
    },
  });
  app.use("/client/v4/*", (c, next) => (c.req.method === "PUT" && R2_OBJECT_PATH.test(c.req.path) ? objectLimit(c, next) : limit(c, next)));
  app.use("/__edge/*", limit);

  const perAccount = async (c: Context<EdgeEnv>, next: Next) => {
    const id = c.req.param("acct") ?? "";
    const account = deps.accounts.get(id);
    if (!account) {
      // A well-formed id the token cannot reach is answered as Cloudflare answers an account of
      // someone else's: 403, 10000 "Authentication error" (workers-sdk#14667, #9358: deploys and
      // `d1 create` against an account not the token's). Cloudflare cannot tell "no such account"
      // from "not yours" apart to a caller, so neither does the edge. An id that is not 32 hex is
      // no identifier at all: 7003, as for any path that routes nowhere.
      if (ACCOUNT_ID.test(id)) throw new CfApiError(403, CF_CODES.AUTH, "Authentication error");
      throw new CfApiError(
        404,
        CF_CODES.NO_ROUTE,
        `Could not route to ${new URL(c.req.url).pathname}, perhaps your object identifier is invalid?`,
      );
    }
    deps.countRequest(account.id);
    const fault = deps.faults.get(account.region);
    const wait = deps.faults.rateLimited(account.region);
    if (wait !== undefined) {
      throw new CfApiError(429, CF_CODES.RATE_LIMITED, "Please wait and consider throttling your request speed", {
        "retry-after": String(Math.ceil(wait / 1000)),
      });
    }
    if (fault.latencyMs) await sleep(fault.latencyMs);
    if (fault.outage) throw new CfApiError(503, CF_CODES.UNAVAILABLE, `Region ${account.region} is unavailable (injected outage).`);
    c.set("account", account);
    await next();
  };
  app.use("/client/v4/accounts/:acct", perAccount);
  app.use("/client/v4/accounts/:acct/*", perAccount);

  const identity = identityRoutes({ accounts: deps.accounts });
  app.route("/client/v4", identity.app);
  app.route("/client/v4/accounts/:acct", workersRoutes(deps));
  app.route("/client/v4/accounts/:acct", referencesRoutes({ ...deps, ...(deps.data ? { queues: deps.data.queues } : {}) }));
  app.route("/client/v4/accounts/:acct", kvRoutes(deps));
  app.route("/client/v4/accounts/:acct", accountRoutes({ tunnels: deps.tunnels, accountJson: identity.accountJson }));
  app.route("/client/v4/accounts/:acct", assetsRoutes(deps));
  app.route("/client/v4/accounts/:acct", durableObjectRoutes(deps));
  app.route("/client/v4/accounts/:acct", triggersRoutes(deps));
  app.route("/client/v4", zoneRoutes(deps));
  if (deps.analytics) {
    app.route(
      "/client/v4",
      graphqlRoutes({ ...deps.analytics, accounts: deps.accounts, faults: deps.faults, countRequest: deps.countRequest }),
    );
  }
  if (deps.tails)
    app.route("/client/v4/accounts/:acct", tailRoutes({ scripts: deps.scripts, tails: deps.tails.hub, notify: deps.tails.notify }));
  if (deps.data) {
    const transfers = createD1Transfers();
    app.route("/", d1TransferRoutes(transfers));
    app.route("/client/v4/accounts/:acct", d1Routes(deps.data, transfers));
    app.route("/client/v4/accounts/:acct", r2Routes(deps.data));
    app.route("/client/v4/accounts/:acct", r2ConfigRoutes(deps.data));
    app.route(
      "/client/v4/accounts/:acct",
      queueRoutes({ queues: deps.data.queues, scripts: deps.scripts, changed: deps.data.queuesChanged }),
    );
    app.route("/client/v4/accounts/:acct", queueMessageRoutes({ queues: deps.data.queues, changed: deps.data.queuesChanged }));
    app.route("/", cronRoutes({ accounts: deps.accounts, scripts: deps.scripts, fire: deps.data.fire }));
  }

  // --- admin: fault injection and info (same token) ---
  app.get("/__edge/info", (c) => c.json(deps.info()));
  // A token that reaches only these accounts (scoped-tokens.ts): one Cloudflare account's token each.
  app.put("/__edge/tokens", async (c) => {
    const body = (await readJsonObject(c)) as { token?: unknown; accounts?: unknown };
    const known = new Set(deps.accounts.list().map((a) => a.id));
    if (typeof body.token !== "string" || body.token.length < 16 || sameToken(body.token, deps.token))
      throw new CfApiError(400, CF_CODES.BAD_REQUEST, "`token` must be a string of at least 16 characters, not the edge's own token.");
    if (!Array.isArray(body.accounts) || body.accounts.length === 0 || !body.accounts.every((a) => typeof a === "string" && known.has(a)))
      throw new CfApiError(400, CF_CODES.BAD_REQUEST, "`accounts` must list account ids of this edge (GET /__edge/info names them).");
    scoped.set(body.token, body.accounts as string[]);
    return c.json({ accounts: body.accounts });
  });
  // What Workers wrote with Analytics Engine's writeDataPoint (the SQL API is not emulated).
  app.get("/__edge/analytics-engine/:region/:dataset", (c) => {
    const a = deps.accounts.byRegion(c.req.param("region"));
    if (!a) throw new CfApiError(404, CF_CODES.NO_ROUTE, `No region named "${c.req.param("region")}".`);
    return c.json({ dataset: c.req.param("dataset"), points: deps.stores.ae.list(a.id, c.req.param("dataset")) });
  });
  app.get("/__edge/faults/:region", (c) => {
    const a = deps.accounts.byRegion(c.req.param("region"));
    if (!a) throw new CfApiError(404, CF_CODES.NO_ROUTE, `No region named "${c.req.param("region")}".`);
    return c.json({ region: a.region, fault: deps.faults.get(a.region) });
  });
  app.put("/__edge/faults/:region", async (c) => {
    const a = deps.accounts.byRegion(c.req.param("region"));
    if (!a) throw new CfApiError(404, CF_CODES.NO_ROUTE, `No region named "${c.req.param("region")}".`);
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      throw new CfApiError(400, CF_CODES.BAD_REQUEST, "The fault must be a JSON object.");
    }
    const parsed = FaultSchema.safeParse(body);
    if (!parsed.success) {
      const i = parsed.error.issues[0]!;
      throw new CfApiError(400, CF_CODES.BAD_REQUEST, `fault.${i.path.join(".")}: ${i.message}`);
    }
    await deps.setFault(a.region, parsed.data);
    return c.json({ region: a.region, fault: deps.faults.get(a.region) });
  });
  app.delete("/__edge/faults/:region", async (c) => {
    const a = deps.accounts.byRegion(c.req.param("region"));
    if (!a) throw new CfApiError(404, CF_CODES.NO_ROUTE, `No region named "${c.req.param("region")}".`);
    await deps.setFault(a.region, null);
    return c.json({ region: a.region, fault: {} });
  });
  return app;
}
