// What runs where: status, targets, workers, their versions, and what a release would do.
import * as z from "zod";
import { requireWorker, type RouteContext } from "./context.ts";
import { decodeCursor, pageFrom } from "./cursor.ts";
import { route, type RouteDef } from "./route.ts";
import {
  ReleasePlanSchema,
  WorkerDiffSchema,
  StatusSchema,
  TargetSummarySchema,
  VersionPageSchema,
  VersionsQuerySchema,
  WorkerParamsSchema,
  WorkerSummarySchema,
} from "../contract/index.ts";
import { buildStatus, targetSummaries, workerSummary } from "./status-view.ts";
import { interactive } from "../cloudflare/index.ts";
import { DEFAULT_REUSE_MS } from "../targets/index.ts";

export function catalogRoutes(ctx: RouteContext): RouteDef[] {
  const { store, engine } = ctx.deps;
  // A plan or diff for a person: first in the budget queue, refused within seconds rather than
  // kept waiting, its queued reads dropped if the client goes. What the last one of its kind took
  // tells a refusal how many requests to find room for.
  const lastTook = new Map<string, number>();
  async function asPerson<T>(kind: string, signal: AbortSignal | undefined, fn: () => Promise<T>) {
    const tally = { sent: 0, reused: 0 };
    const need = () => Math.max(1, (lastTook.get(kind) ?? 1) - tally.sent - tally.reused);
    const value = await interactive(signal, fn, tally, { revalidate: true, need });
    lastTook.set(kind, tally.sent + tally.reused);
    return { value, reads: { ...tally, reuseMs: ctx.deps.reuseReadsMs ?? DEFAULT_REUSE_MS } };
  }
  return [
    route({
      id: "getStatus",
      method: "get",
      path: "/v1/status",
      summary: "Every target and worker: what each target serves (read from the edge), health, drift, a restore pending, last release",
      role: "viewer",
      response: StatusSchema,
      async handle({ tenant, signal }) {
        const spec = ctx.deps.spec();
        // A person waits: first in the budget queue, reads shared with plan and diff, dropped if they go.
        const observations = new Map(
          await interactive(signal, () => Promise.all(spec.workers.map(async (w) => [w.name, await ctx.observed(w.name)] as const))),
        );
        return buildStatus({
          spec,
          catalogTargets: store.catalog.targets(tenant),
          health: store.health.list(tenant),
          drift: store.drift.list(tenant),
          restores: engine.restores().filter((p) => p.tenant === tenant),
          lastRelease: (worker) => store.releases.list({ worker, tenant, limit: 1 })[0] ?? null,
          control: (id) => {
            try {
              return engine.control(id);
            } catch {
              return undefined;
            }
          },
          observations,
          specRefused: ctx.deps.specRefusal?.(),
          pins: (_worker, target, versionId) => store.catalog.version(tenant, target, versionId)?.secrets?.secrets,
          currentSecret: (name) => {
            try {
              const s = ctx.deps.security.vault.info(name, { tenant });
              return s.deleted || s.destroyed ? undefined : s.version;
            } catch {
              return undefined;
            }
          },
        });
      },
    }),
    route({
      id: "listTargets",
      method: "get",
      path: "/v1/targets",
      summary: "The targets of orchestrator.yaml, with their resolved account ids",
      role: "viewer",
      response: z.array(TargetSummarySchema),
      handle: ({ tenant }) => targetSummaries(ctx.deps.spec(), store.catalog.targets(tenant)),
    }),
    route({
      id: "listWorkers",
      method: "get",
      path: "/v1/workers",
      summary: "The workers of orchestrator.yaml with their targets, waves, steps and gate",
      role: "viewer",
      response: z.array(WorkerSummarySchema),
      handle: () => ctx.deps.spec().workers.map(workerSummary),
    }),
    route({
      id: "listVersions",
      method: "get",
      path: "/v1/workers/:name/versions",
      summary:
        "Versions the orchestrator uploaded, newest first, and whether each is in its target's live deployment, a page at a time (?limit=&cursor=)",
      role: "viewer",
      params: WorkerParamsSchema,
      query: VersionsQuerySchema,
      response: VersionPageSchema,
      errors: [404],
      async handle({ params, query, tenant, signal }) {
        const limit = query.limit ?? 100;
        const filters = { worker: params.name };
        const p = query.cursor ? decodeCursor("versions", filters, query.cursor) : undefined;
        const before = p ? { created_at: String(p[0]), target: String(p[1]), version_id: String(p[2]) } : undefined;
        const rows = store.catalog.versions(tenant, params.name, undefined, limit + 1, before);
        // A worker removed from the spec keeps its history; a name never seen anywhere is unknown.
        if (rows.length === 0 && !p && !ctx.deps.spec().workers.some((w) => w.name === params.name))
          requireWorker(ctx.deps.spec(), params.name);
        const seen = rows.length ? await interactive(signal, () => ctx.observed(params.name)) : undefined;
        return pageFrom(rows, limit, {
          list: "versions",
          filters,
          position: (r) => [r.created_at, r.target, r.version_id],
          item: (r) => ({
            target: r.target,
            versionId: r.version_id,
            releaseId: r.release_id,
            createdAt: r.created_at,
            live: seen?.live.get(r.target)?.some((d) => d.versionId === r.version_id && d.percentage > 0) ?? false,
          }),
        });
      },
    }),
    route({
      id: "planRelease",
      method: "get",
      path: "/v1/workers/:name/plan",
      summary: "What releasing this worker would do now: targets, versions, steps and the API calls it will spend",
      role: "deployer",
      params: WorkerParamsSchema,
      response: ReleasePlanSchema,
      errors: [404, 429, 503],
      async handle({ params, signal }) {
        requireWorker(ctx.deps.spec(), params.name);
        const { value, reads } = await asPerson(`plan ${params.name}`, signal, () => engine.plan(params.name));
        return { ...value, reads };
      },
    }),
    route({
      id: "diffWorker",
      method: "get",
      path: "/v1/workers/:name/diff",
      summary:
        "Per target, what releasing this worker would change against what the target runs now (code, bindings, vars, compatibility, secrets as name@version, config, assets, crons, routes, consumers, settings), and drift: a live version the orchestrator never uploaded",
      role: "deployer",
      params: WorkerParamsSchema,
      response: WorkerDiffSchema,
      errors: [404, 429, 503],
      async handle({ params, signal }) {
        requireWorker(ctx.deps.spec(), params.name);
        const { value, reads } = await asPerson(`diff ${params.name}`, signal, () => engine.diff(params.name));
        return { ...value, reads };
      },
    }),
  ];
}
