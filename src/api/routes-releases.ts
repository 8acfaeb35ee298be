// Releases: start one, follow it, abort it, roll a worker back. The engine does the work and
// keeps the records; these routes check who asks and for what, then hand over.
import { z } from "zod";
import { CboError } from "../kit/errors.ts";
import { TERMINAL } from "../store/releases.ts";
import { requireRelease, requireWorker, type RouteContext } from "./context.ts";
import { route, type RouteDef } from "./route.ts";
import {
  CreateReleaseBodySchema,
  ReleaseDetailSchema,
  ReleaseParamsSchema,
  ReleaseSchema,
  ReleasesQuerySchema,
  RollbackBodySchema,
  WorkerParamsSchema,
} from "./schemas.ts";

export function releaseRoutes(ctx: RouteContext): RouteDef[] {
  const { store, engine } = ctx.deps;
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
      errors: [404, 409, 503],
      handle({ body, principal }) {
        requireWorker(ctx.deps.spec(), body.worker);
        return engine.release(body.worker, { by: principal!.name });
      },
    }),
    route({
      id: "listReleases",
      method: "get",
      path: "/v1/releases",
      summary: "Releases and rollbacks, newest first",
      role: "viewer",
      query: ReleasesQuerySchema,
      response: z.array(ReleaseSchema),
      handle: ({ query, tenant }) => store.releases.list({ tenant, ...(query.worker ? { worker: query.worker } : {}), limit: query.limit ?? 100 }),
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
      response: ReleaseSchema,
      errors: [404, 409, 503],
      handle({ params, tenant, principal }) {
        const release = requireRelease(store, params.id, tenant);
        if (TERMINAL.has(release.status)) {
          throw new CboError("ERR_CONFLICT", `Release ${release.id} has already ended (${release.status}).`, {
            details: { release: release.id, status: release.status },
          });
        }
        return engine.abort(release.id, { by: principal!.name });
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
      errors: [404, 409, 503],
      handle({ params, body, principal }) {
        requireWorker(ctx.deps.spec(), params.name);
        return engine.rollback(params.name, { ...(body.to === undefined ? {} : { to: body.to }), by: principal!.name });
      },
    }),
  ];
}
