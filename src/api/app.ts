// The daemon's HTTP API: the route list (routes-*.ts) mounted on Hono with bearer auth, input
// validation and one error shape, plus the WebSocket event stream for a node:http server.
// Every request with a role goes through the auth gate (rate limit, token, role; refusals are
// audited), and a mutation that fails is recorded under its route's audit action; its success is
// recorded by the change itself, fail closed (see audit-trail.ts). Before any of that, a request
// must name a host the daemon goes by (host-allowlist.ts), and every body is read with its route's
// limit counted while it streams in (body-limit.ts).
import type { IncomingMessage, Server } from "node:http";
import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import type * as z from "zod";
import { CboError } from "../kit/errors.ts";
import { actorOf, viaOf } from "../security/index.ts";
import { createAllowedMethods, methodNotAllowed } from "./allowed-methods.ts";
import { createAuthGate } from "./auth-gate.ts";
import { DEFAULT_MAX_BODY_BYTES, payloadTooLarge, readBody } from "./body-limit.ts";
import type { RouteContext } from "./context.ts";
import { endWithError } from "./client-error.ts";
import { errorResponse, toErrorResponse, validationError } from "./errors.ts";
import { checkJsonType, jsonOf } from "./json-body.ts";
import { singleQuery } from "./query-params.ts";
import { createIdempotency, IDEMPOTENCY_HEADER, REPLAYED_HEADER } from "./idempotency.ts";
import { createEventStream, type EventStream } from "./events-ws.ts";
import { createObserver } from "../targets/live-cache.ts";
import { createRequestOrigin } from "./request-origin.ts";
import { buildOpenApi } from "./openapi.ts";
import type { RouteDef } from "./route.ts";
import { catalogRoutes } from "./routes-catalog.ts";
import { eventRoutes } from "./routes-events.ts";
import { metaRoutes } from "./routes-meta.ts";
import { releaseRoutes } from "./routes-releases.ts";
import { d1Routes } from "./routes-d1.ts";
import { auditRoutes } from "./routes-audit.ts";
import { agentRoutes } from "./routes-agent.ts";
import { configRoutes } from "./routes-config.ts";
import { keyRoutes } from "./routes-keys.ts";
import { relayRoutes } from "./routes-relay.ts";
import { secretRoutes } from "./routes-secrets.ts";
import { tokenRoutes } from "./routes-tokens.ts";
import { backupRoutes } from "./routes-backup.ts";
import { vaultRoutes } from "./routes-vault.ts";
import { tunnelRoutes } from "./routes-tunnel.ts";
import { setupRoutes } from "./routes-setup.ts";
import { deploymentKitRoutes } from "./routes-deployment-kit.ts";
import { logRoutes } from "./routes-logs.ts";
import { createLogStream, type LogStream } from "./logs-ws.ts";
import type { ApiDeps } from "./types.ts";
import { encodeSpecRefused, shownText, SPEC_REFUSED_HEADER } from "../contract/index.ts";
// Dashboard: its page and session routes, and what a session-authenticated request must show.
import { createDashboardAssets } from "./dashboard/assets.ts";
import { baseSecurityHeaders } from "./dashboard/headers.ts";
import { mountDashboard, siteOf } from "./dashboard/routes.ts";
import { createSessionStore } from "./dashboard/session.ts";
import { clearSessionCookie, CSRF_HEADER, isHttps, readSessionCookie } from "./dashboard/session-cookie.ts";
import { guardSession } from "./dashboard/session-guard.ts";
import { stderrLogger } from "../telemetry/index.ts";
import { notePrincipal, observeRequests } from "./observe-requests.ts";
import { metricsRoutes } from "./routes-metrics.ts";

export const API_VERSION = "0.1.0";

export type Api = {
  app: Hono;
  routes: RouteDef[];
  /** Serves the WebSocket event stream on `server`'s upgrade requests. */
  attach(server: Server): EventStream;
  /** Closes the event streams attached so far. */
  close(): Promise<void>;
};

function parse<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw validationError(where, r.error);
  return r.data;
}

/** The node:http request (Hono's node adapter passes it as env.incoming); undefined in-process. */
const incomingOf = (c: Context): IncomingMessage | undefined => (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;

export function createApi(deps: ApiDeps): Api {
  const log = deps.log ?? stderrLogger();
  let openapi: Record<string, unknown> | undefined;
  const sessions = createSessionStore(deps.dashboard?.sessions);
  const gate = createAuthGate({
    tokens: deps.store.tokens,
    trail: deps.security.trail,
    sessions,
    ...(deps.authLimits ? { limits: deps.authLimits } : {}),
  });
  const origin = createRequestOrigin({
    tunnelHosts: () => deps.tunnel?.hostnames() ?? [],
    extraHosts: deps.allowedHosts ?? [],
    trail: deps.security.trail,
    tenant: () => deps.spec().tenant,
  });
  const clientOf = (c: Context) => origin.clientOf(incomingOf(c));
  const idempotency = createIdempotency({ store: deps.store, hash: (m) => deps.security.vault.keyedHash(m) });
  const ctx: RouteContext = {
    deps,
    gate,
    observed: createObserver(deps),
    openapi: () => (openapi ??= buildOpenApi(routes, { title: "Clawdbot Orchestrator API", version: API_VERSION })),
  };
  const routes: RouteDef[] = [
    ...metaRoutes(ctx),
    ...catalogRoutes(ctx),
    ...releaseRoutes(ctx),
    ...d1Routes(ctx),
    ...eventRoutes(ctx),
    ...secretRoutes(ctx),
    ...tokenRoutes(ctx),
    ...auditRoutes(ctx),
    ...keyRoutes(ctx),
    ...relayRoutes(ctx),
    ...configRoutes(ctx),
    ...agentRoutes(ctx),
    ...vaultRoutes(ctx),
    ...backupRoutes(ctx),
    ...tunnelRoutes(ctx),
    ...setupRoutes(ctx),
    ...deploymentKitRoutes(ctx),
    ...metricsRoutes(ctx),
    ...logRoutes(ctx),
  ];

  const app = new Hono();
  app.onError((err, c) => {
    // A full disk or a damaged database is named (ERR_DISK_FULL, ERR_STORE_CORRUPT), never ERR_INTERNAL.
    const res = toErrorResponse(deps.store.storage.classify(err), log);
    // A session cookie the server no longer knows: drop it, so the browser stops sending it.
    if (res.status === 401 && !c.req.header("authorization") && readSessionCookie(c.req.header("cookie")) !== undefined) {
      res.headers.append("set-cookie", clearSessionCookie(isHttps(c.req.url, c.req.header("x-forwarded-proto"))));
    }
    return res;
  });
  const allowedAt = createAllowedMethods(routes);
  app.notFound((c) => {
    const allowed = allowedAt(c.req.path);
    if (allowed.length === 0)
      return errorResponse(
        new CboError("ERR_NOT_FOUND", `No route ${shownText(c.req.method, 20)} ${shownText(c.req.path)}.`, {
          hint: "GET /v1/openapi.json lists every route.",
        }),
      );
    return methodNotAllowed(c.req.method, c.req.path, allowed, "GET /v1/openapi.json lists every route.");
  });
  // First of all: every request's span, access log line and counters (observe-requests.ts).
  const quiet = new Set(routes.filter((x) => x.hot).map((x) => x.path));
  app.use("*", observeRequests({ log, metrics: deps.metrics, tracer: deps.tracer, quiet: (path) => quiet.has(path) }));
  // Hot, token-less, signed routes (heartbeats: every isolate of every Worker, every interval) are
  // registered before the general middleware: no session, CSRF or request-context work applies to
  // them. They check the Host and their body limit themselves.
  for (const r of routes.filter((x) => x.hot)) {
    const limit = r.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    const label = `${r.method.toUpperCase()} ${r.path}`;
    app.on(r.method.toUpperCase(), r.path, async (c) => {
      const req = incomingOf(c);
      origin.checkHost(req, label);
      const raw = await readBody(c, limit);
      const input = {
        params: undefined,
        query: undefined,
        body: r.body ? parse(r.body, jsonOf(raw), "body") : undefined,
        principal: null,
        tenant: deps.spec().tenant,
        signed: { raw, signature: r.signatureHeader ? c.req.header(r.signatureHeader) : undefined },
        client: () => origin.clientOf(req),
      };
      return c.json((await r.handle(input)) as object, r.status);
    });
  }
  app.use("*", baseSecurityHeaders());
  app.use("*", async (c, next) => {
    origin.checkHost(incomingOf(c), `${c.req.method} ${c.req.path}`.slice(0, 300));
    await next();
  });
  // A refused orchestrator.yaml is said on every answer to someone the daemon knows (errors too):
  // every client can warn that the file on disk is not what the daemon uses, and why.
  const authenticated = new WeakSet<Request>();
  app.use("*", async (c, next) => {
    await next();
    const refused = authenticated.has(c.req.raw) ? deps.specRefusal?.() : undefined;
    if (refused) c.res.headers.set(SPEC_REFUSED_HEADER, encodeSpecRefused(refused));
  });

  for (const r of routes.filter((x) => !x.hot)) {
    app.on(r.method.toUpperCase(), r.path, async (c) => {
      const tenant = deps.spec().tenant;
      const label = `${r.method.toUpperCase()} ${r.path}`;
      // Who asks comes first: an unauthenticated request learns nothing about its input. Without
      // a bearer token, a dashboard session cookie may stand in (with its CSRF token on mutations).
      const client = clientOf(c);
      const who = r.role
        ? gate.identify(
            { header: c.req.header("authorization"), session: readSessionCookie(c.req.header("cookie")), client, route: label },
            tenant,
          )
        : null;
      const principal = who?.principal ?? null;
      if (principal) notePrincipal(c, principal.name);
      const session = who?.session;
      if (principal) authenticated.add(c.req.raw);
      if (principal && session) {
        const check = {
          kind: "route" as const,
          routeId: r.id,
          mutation: r.method !== "get",
          csrfHeader: c.req.header(CSRF_HEADER),
          csrfOk: (g: string | undefined) => sessions.csrfMatches(session, g),
          site: siteOf(c),
        };
        guardSession(deps.security.trail, principal, check, label, tenant);
      }
      if (principal && r.role) gate.authorize(principal, r.role, tenant, label);
      // Only what the route takes is read, and no more than its limit; a route without a body
      // still refuses a declared one over the default (an unread body is drained and dropped).
      const raw = r.body || r.signatureHeader ? await readBody(c, r.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES) : undefined;
      if (raw === undefined && Number(c.req.header("content-length") ?? 0) > DEFAULT_MAX_BODY_BYTES)
        throw payloadTooLarge(DEFAULT_MAX_BODY_BYTES);
      if (raw !== undefined && raw.trim() !== "") checkJsonType(c.req.header("content-type"));
      const input = {
        params: r.params ? parse(r.params, c.req.param(), "params") : undefined,
        query: r.query ? parse(r.query, singleQuery(c.req.queries(), r.query), "query") : undefined,
        body: r.body ? parse(r.body, jsonOf(raw ?? ""), "body") : undefined,
        principal,
        tenant,
        ...(raw === undefined || !r.signatureHeader ? {} : { signed: { raw, signature: c.req.header(r.signatureHeader) } }),
        client: () => client,
        // Taken now: the node adapter only aborts a signal that exists when the client goes away.
        signal: c.req.raw.signal,
      };
      // A mutation under an Idempotency-Key runs once; a retry gets the first answer (idempotency.ts).
      const key = principal && r.method !== "get" ? idempotency.keyOf(c.req.header(IDEMPOTENCY_HEADER)) : undefined;
      const claim =
        key === undefined
          ? undefined
          : idempotency.claim({
              principal: principal!.id,
              method: r.method.toUpperCase(),
              path: c.req.path,
              key,
              query: new URL(c.req.url).search,
              body: raw ?? "",
            });
      if (claim?.kind === "replay")
        return c.body(claim.body, claim.status as 200, { "content-type": claim.contentType, [REPLAYED_HEADER]: "true" });
      const settle = (outcome: Parameters<typeof idempotency.settle>[1]) => {
        if (claim?.kind !== "run") return;
        try {
          idempotency.settle(claim.id, outcome);
        } catch (e) {
          // The request's own outcome stands; a key that could not be settled stays in flight (409 to a retry).
          log.error(`api: idempotency key not settled: ${e instanceof Error ? e.message : String(e)}`);
        }
      };
      let out: unknown;
      // `x-cbo-via` (e.g. `mcp:rollback` from `cbo mcp`): a detail on the caller's audit entries.
      const via = principal ? (session ? "dashboard" : viaOf(c.req.header("x-cbo-via"))) : undefined;
      const by = via && principal ? { actor: actorOf(principal), via } : undefined;
      try {
        out = await deps.security.trail.within(by, () => r.handle(input));
      } catch (e) {
        settle({ ok: false });
        const named = deps.store.storage.classify(e);
        if (r.audit && principal)
          deps.security.trail.within(by, () =>
            deps.security.trail.failed(r.audit!.action, actorOf(principal), r.audit!.target?.(input) ?? null, tenant, named),
          );
        throw named;
      }
      if (r.stream) {
        // A stream is not kept for replay: its key is freed (only reads stream today).
        settle({ ok: false });
        if (!(out instanceof ReadableStream)) throw new Error(`route ${r.id} is a stream but its handler returned something else`);
        return c.body(out, r.status, { "content-type": r.contentType ?? "application/octet-stream" });
      }
      if (deps.checkResponses) {
        const checked = r.response.safeParse(out);
        if (!checked.success)
          throw new Error(`response of ${r.id} does not match its schema: ${JSON.stringify(checked.error.issues.slice(0, 3))}`);
        out = checked.data;
      }
      if (claim?.kind === "run") {
        const contentType = r.contentType ?? "application/json";
        const body = r.contentType ? (out as string) : JSON.stringify(out);
        settle({ ok: true, status: r.status, contentType, body, withhold: r.answerHoldsSecret === true });
        return c.body(body, r.status, { "content-type": contentType });
      }
      if (r.contentType) return c.body(out as string, r.status, { "content-type": r.contentType });
      return c.json(out as object, r.status);
    });
  }

  // Everything else that reads a body (the dashboard's login and logout) takes the default limit,
  // counted while it streams in. After the API routes: theirs are their own.
  app.use("*", bodyLimit({ maxSize: DEFAULT_MAX_BODY_BYTES, onError: () => errorResponse(payloadTooLarge(DEFAULT_MAX_BODY_BYTES)) }));
  mountDashboard(app, {
    gate,
    sessions,
    trail: deps.security.trail,
    tenant: () => deps.spec().tenant,
    lastEventId: () => deps.store.events.lastId(),
    assets: createDashboardAssets({ log, ...(deps.dashboard?.dir ? { dir: deps.dashboard.dir } : {}) }),
    client: clientOf,
    log,
  });

  const streams: Array<EventStream | LogStream> = [];
  return {
    app,
    routes,
    attach(server) {
      if (streams.length === 0 && deps.metrics) {
        const m = deps.metrics;
        m.registry.collect(() => m.wsClients.set(streams.reduce((n, s) => n + s.clientCount(), 0)));
      }
      const stream = createEventStream({
        store: deps.store,
        gate,
        trail: deps.security.trail,
        sessions,
        tenant: () => deps.spec().tenant,
        log,
        ...(deps.stream ? { options: deps.stream } : {}),
        origin,
      });
      streams.push(stream);
      // Fleet logs' live stream (src/fleet-logs), when the daemon has them.
      const logStream = deps.fleetLogs
        ? createLogStream({
            logs: deps.fleetLogs,
            gate,
            trail: deps.security.trail,
            sessions,
            tenant: () => deps.spec().tenant,
            workers: () => deps.spec().workers.map((w) => w.name),
            log,
            ...(deps.stream ? { options: deps.stream } : {}),
            origin,
          })
        : undefined;
      if (logStream) streams.push(logStream);
      server.on("upgrade", (req, socket, head) => {
        if (stream.handleUpgrade(req, socket, head)) return;
        if (logStream?.handleUpgrade(req, socket, head)) return;
        endWithError(
          socket,
          new CboError("ERR_NOT_FOUND", "No WebSocket endpoint at this path.", {
            hint: "The daemon's streams are /v1/events/stream and /v1/logs/stream.",
          }),
        );
      });
      return stream;
    },
    async close() {
      await Promise.all(streams.splice(0).map((s) => s.close()));
    },
  };
}
