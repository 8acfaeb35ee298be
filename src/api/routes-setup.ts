// The setup wizard for the dashboard: each step's state as this daemon sees it (src/setup), and a
// way to run a step again. On a running daemon most steps only report (the key is in use, the
// targets answer a verify call, a tunnel exists); "first-release" starts a release of the spec's
// first worker (or the one given), recorded like any release request.
import { RunSetupStepBodySchema, SetupSchema, SetupStepParamsSchema, SetupStepRunSchema } from "../contract/index.ts";
import { CboError } from "../kit/errors.ts";
import { interactive } from "../cloudflare/index.ts";
import { createSetupState } from "../setup/daemon-state.ts";
import { actorOf } from "../security/index.ts";
import { requireWorker, type RouteContext } from "./context.ts";
import { route, type RouteDef } from "./route.ts";

export function setupRoutes(ctx: RouteContext): RouteDef[] {
  const { store, engine } = ctx.deps;
  const state = createSetupState({
    spec: ctx.deps.spec,
    ...(ctx.deps.targets ? { targets: ctx.deps.targets } : {}),
    ...(ctx.deps.admin ? { masterKey: () => ctx.deps.admin!.masterKey().toJSON() } : {}),
    releases: (tenant) => store.releases.list({ tenant, limit: 20 }),
    tunnel: async () => {
      const t = ctx.deps.tunnel;
      const h = t?.health();
      if (!t || !h?.configured) return undefined;
      const url = t.workersUrl();
      return {
        configured: true,
        detail: `a tunnel is configured${url ? ` (Workers reach the orchestrator at ${url})` : ""}; cloudflared: ${h.process}${h.restarts ? `, ${h.restarts} restart(s)` : ""}`,
      };
    },
  });
  return [
    route({
      id: "getSetup",
      method: "get",
      path: "/v1/setup",
      summary:
        "The setup wizard's steps (master key, Cloudflare or the local edge, targets, tunnel, first release) with status, detail and a fix for a failed one",
      role: "viewer",
      response: SetupSchema,
      // A person waits: the checks' Cloudflare reads go first in the budget queue, refused within seconds.
      handle: async ({ signal }) => ({ steps: await interactive(signal, () => state.steps()) }),
    }),
    route({
      id: "runSetupStep",
      method: "post",
      path: "/v1/setup/:step",
      summary: "Checks a step again; first-release starts a release (canary first, gated) and answers at once with the step running",
      role: "admin",
      params: SetupStepParamsSchema,
      body: RunSetupStepBodySchema,
      response: SetupStepRunSchema,
      errors: [404, 409, 503],
      audit: { action: "setup.run", target: ({ params }) => `setup:${params.step}` },
      async handle({ params, body, principal, tenant, signal }) {
        if (params.step !== "first-release") return { step: await interactive(signal, () => state.recheck(params.step)) };
        const spec = ctx.deps.spec();
        const name = body.input?.worker ?? spec.workers[0]?.name;
        if (!name)
          throw new CboError("ERR_VALIDATION", `${spec.file} declares no workers.`, {
            hint: "Add one under `workers:` (cbo init writes an example).",
          });
        requireWorker(spec, name);
        const actor = actorOf(principal!);
        // On the record before it starts (fail closed), as POST /v1/releases does.
        ctx.deps.security.trail.record({
          actor,
          action: "release.create",
          target: `worker:${name}`,
          tenant,
          outcome: "ok",
          details: { stage: "requested", from: "setup" },
        });
        const r = await engine.release(name, { by: principal!.name });
        return { step: await state.recheck("first-release"), releaseId: r.id };
      },
    }),
  ];
}
