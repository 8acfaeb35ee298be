// Releases: start one, follow it, abort it, roll a worker back. The engine does the work and
// keeps the records; these routes check who asks and for what, then hand over. The engine's work
// is long and async, so it cannot share a transaction with its audit entry: the request is
// recorded first (fail closed: no entry, no release), its result after (best effort), and the
// engine's own lifecycle events follow in the log (security.followEngine).
import { CboError } from "../kit/errors.ts";
import type { Release } from "../store/index.ts";
import { TERMINAL_STATUSES } from "../contract/index.ts";
import { actorOf } from "../security/index.ts";
import { requireRelease, requireWorker, type RouteContext } from "./context.ts";
import { decodeCursor, pageFrom } from "./cursor.ts";
import { route, type RouteDef } from "./route.ts";
import { interactive } from "../cloudflare/index.ts";
import {
  ControlBodySchema,
  ControlResultSchema,
  ReleaseAnalysisSchema,
  ReleaseControlSchema,
  CreateReleaseBodySchema,
  RollbackPreviewQuerySchema,
  RollbackPreviewSchema,
  ReleaseDetailSchema,
  ReleasePageSchema,
  ReleaseParamsSchema,
  ReleaseSchema,
  ReleasesQuerySchema,
  RollbackBodySchema,
  WorkerParamsSchema,
} from "../contract/index.ts";
import type { Principal } from "./types.ts";

export function releaseRoutes(ctx: RouteContext): RouteDef[] {
  const { store, engine } = ctx.deps;
  const { trail } = ctx.deps.security;
  /** Records the request (throws when it cannot), runs it, records what it started. */
  async function audited(
    p: Principal,
    action: string,
    target: string,
    tenant: string,
    run: () => Promise<Release>,
    extra: Record<string, unknown> = {},
  ): Promise<Release> {
    const actor = actorOf(p);
    trail.record({ actor, action, target, tenant, outcome: "ok", details: { stage: "requested", ...extra } });
    const r = await run();
    trail.note({ actor, action, target, tenant, outcome: "ok", details: { stage: "started", releaseId: r.id, status: r.status } });
    return r;
  }
  return [
    route({
      id: "createRelease",
      method: "post",
      path: "/v1/releases",
      summary: "Release a worker to its targets in waves and gated steps; answers at once with the running release",
      role: "deployer",
      body: CreateReleaseBodySchema,
      status: 202,
      response: ReleaseSchema,
      errors: [404, 409, 422, 428, 503],
      audit: { action: "release.create", target: ({ body }) => `worker:${body.worker}` },
      handle({ body, principal, tenant }) {
        ctx.deps.refreshSpec?.();
        refuseWhileSpecRefused(ctx);
        requireWorker(ctx.deps.spec(), body.worker);
        return audited(
          principal!,
          "release.create",
          `worker:${body.worker}`,
          tenant,
          () =>
            engine.release(body.worker, {
              by: principal!.name,
              ...(body.force ? { force: true } : {}),
              ...(body.overrideWindow ? { overrideWindow: body.overrideWindow } : {}),
              ...(body.allow_non_gradual !== undefined ? { allowNonGradual: body.allow_non_gradual } : {}),
              ...(body.confirm_class_deletion !== undefined ? { confirmClassDeletion: body.confirm_class_deletion } : {}),
            }),
          body.overrideWindow ? { overrideWindow: body.overrideWindow.reason } : {},
        );
      },
    }),
    route({
      id: "listReleases",
      method: "get",
      path: "/v1/releases",
      summary: "Releases and rollbacks, newest first, a page at a time (?limit=&cursor=; `next` until the last page)",
      role: "viewer",
      query: ReleasesQuerySchema,
      response: ReleasePageSchema,
      handle({ query, tenant }) {
        const limit = query.limit ?? 100;
        const filters = { worker: query.worker };
        const p = query.cursor ? decodeCursor("releases", filters, query.cursor) : undefined;
        const rows = store.releases.list({
          tenant,
          ...(query.worker ? { worker: query.worker } : {}),
          limit: limit + 1,
          ...(p ? { before: { created_at: String(p[0]), id: String(p[1]) } } : {}),
        });
        return pageFrom(rows, limit, { list: "releases", filters, position: (r) => [r.created_at, r.id], item: (r) => r });
      },
    }),
    route({
      id: "getRelease",
      method: "get",
      path: "/v1/releases/:id",
      summary: "One release with its journal (every step, in order)",
      role: "viewer",
      params: ReleaseParamsSchema,
      response: ReleaseDetailSchema,
      errors: [404],
      handle({ params, tenant }) {
        const release = requireRelease(store, params.id, tenant);
        return { release, journal: store.releases.entries(release.id) };
      },
    }),
    route({
      id: "abortRelease",
      method: "post",
      path: "/v1/releases/:id/abort",
      summary: "Stop a running release and return every touched target to its previous version",
      role: "deployer",
      params: ReleaseParamsSchema,
      body: ControlBodySchema,
      response: ReleaseSchema,
      errors: [404, 409, 503],
      audit: { action: "release.abort", target: ({ params }) => `release:${params.id}` },
      handle({ params, body, tenant, principal }) {
        const release = requireRelease(store, params.id, tenant);
        if (TERMINAL_STATUSES.has(release.status)) {
          throw new CboError("ERR_CONFLICT", `Release ${release.id} has already ended (${release.status}).`, {
            details: { release: release.id, status: release.status },
          });
        }
        const reason = body.reason === undefined ? {} : { reason: body.reason };
        return audited(
          principal!,
          "release.abort",
          `release:${release.id}`,
          tenant,
          () => engine.abort(release.id, { by: principal!.name, ...reason }),
          reason,
        );
      },
    }),
    ...(["pause", "resume", "promote"] as const).map((verb) =>
      route({
        id: `${verb}Release`,
        method: "post",
        path: `/v1/releases/:id/${verb}`,
        summary: {
          pause: "Hold a running release before its next step on every target, until resume",
          resume: "Let a paused release go on",
          promote: "Approve the `{pause: approve}` step (or end the timed `{pause: 10m}` step) every waiting target is at",
        }[verb],
        role: "deployer",
        params: ReleaseParamsSchema,
        body: ControlBodySchema,
        response: ControlResultSchema,
        errors: [404, 409],
        audit: { action: `release.${verb}`, target: ({ params }) => `release:${params.id}` },
        async handle({ params, body, tenant, principal }) {
          const release = requireRelease(store, params.id, tenant);
          const actor = actorOf(principal!);
          const opts = { by: principal!.name, ...(body.reason === undefined ? {} : { reason: body.reason }) };
          const result = await engine[verb](release.id, opts);
          trail.record({
            actor,
            action: `release.${verb}`,
            target: `release:${release.id}`,
            tenant,
            outcome: "ok",
            details: {
              worker: release.worker,
              ...(body.reason === undefined ? {} : { reason: body.reason }),
              waiting: result.control.waiting.map((w) => `${w.target}:${w.kind}`),
            },
          });
          return result;
        },
      }),
    ),
    route({
      id: "getReleaseControl",
      method: "get",
      path: "/v1/releases/:id/control",
      summary: "What a release waits for now: paused or not, and per target an approval, a timer, a pause or analytics data",
      role: "viewer",
      params: ReleaseParamsSchema,
      response: ReleaseControlSchema,
      errors: [404],
      handle({ params, tenant }) {
        const release = requireRelease(store, params.id, tenant);
        return engine.control(release.id);
      },
    }),
    route({
      id: "getReleaseAnalysis",
      method: "get",
      path: "/v1/releases/:id/analysis",
      summary:
        "The canary analysis of every step, per target: canary and baseline minutes (requests, errors, p50, p99), thresholds, checks and verdict; live while a step runs",
      role: "viewer",
      params: ReleaseParamsSchema,
      response: ReleaseAnalysisSchema,
      errors: [404],
      handle({ params, tenant }) {
        const release = requireRelease(store, params.id, tenant);
        return engine.analysis(release.id);
      },
    }),
    route({
      id: "previewRollback",
      method: "get",
      path: "/v1/workers/:name/rollback/preview",
      summary:
        "What a rollback would do, per target: the code version, each secret's version change, the config version, the newer migrations whose schema stays, and the confirmations it needs",
      role: "viewer",
      params: WorkerParamsSchema,
      query: RollbackPreviewQuerySchema,
      response: RollbackPreviewSchema,
      errors: [404],
      handle({ params, query, signal }) {
        requireWorker(ctx.deps.spec(), params.name);
        // A person waits: first in the Cloudflare budget queue, refused within seconds, reads dropped if they go.
        return interactive(signal, () => engine.previewRollback(params.name, query.to === undefined ? {} : { to: query.to }));
      },
    }),
    route({
      id: "rollbackWorker",
      method: "post",
      path: "/v1/workers/:name/rollback",
      summary: "Fast-track every target of a worker to an earlier version, without gates",
      role: "deployer",
      params: WorkerParamsSchema,
      body: RollbackBodySchema,
      status: 202,
      response: ReleaseSchema,
      errors: [404, 409, 428, 503],
      audit: { action: "rollback.create", target: ({ params }) => `worker:${params.name}` },
      handle({ params, body, principal, tenant }) {
        requireWorker(ctx.deps.spec(), params.name);
        const opts = {
          ...(body.to === undefined ? {} : { to: body.to }),
          by: principal!.name,
          ...(body.confirm_secret_downgrade !== undefined ? { confirmSecretDowngrade: body.confirm_secret_downgrade } : {}),
          ...(body.force !== undefined ? { force: body.force } : {}),
        };
        return audited(principal!, "rollback.create", `worker:${params.name}`, tenant, () => engine.rollback(params.name, opts));
      },
    }),
  ];
}

/**
 * A release ships what is on disk: the Worker's code is built from its files at release time. While
 * the daemon refuses the spec file on disk (it does not validate, or it changes the targets), the
 * settings in use are the previous file's, so a release would ship today's code with yesterday's
 * bindings, routes and rollout (another Worker's broken wrangler file was enough). Refused until
 * the file is fixed; a rollback needs no spec and is never refused for this.
 */
function refuseWhileSpecRefused(ctx: RouteContext): void {
  const refused = ctx.deps.specRefusal?.();
  if (!refused) return;
  throw new CboError(
    "ERR_CONFLICT",
    `The daemon refuses ${refused.file} as it is on disk (${refused.reason}), and a release would ship the Workers' code as it is now with the previous file's settings.`,
    {
      hint: refused.reason.includes("restart")
        ? "Restart the daemon to take the new targets, or undo that change; then release again. A rollback works meanwhile."
        : "Fix the file (cbo plan names the problem) and release again. A rollback works meanwhile.",
    },
  );
}
