// Per-Worker keys: which versions verify now (never a key), and rotation. A rotation makes a new key
// for each target of the worker, keeps the old one verifying, and starts a release that ships the
// new one; when that release succeeds on a target the old key stops verifying there (the engine
// calls SecretSource.shipped). If the release fails, both keep verifying until the next one.
import * as z from "zod";
import { CboError } from "../kit/errors.ts";
import { transaction } from "../kit/transaction.ts";
import { actorOf } from "../security/index.ts";
import { requireWorker, type RouteContext } from "./context.ts";
import { route, type RouteDef } from "./route.ts";
import { KeyRotationSchema, RotateWorkerKeyBodySchema, WorkerKeyParamsSchema, WorkerKeySchema } from "../contract/index.ts";

export function keyRoutes(ctx: RouteContext): RouteDef[] {
  const { store, engine } = ctx.deps;
  const { workerKeys, trail } = ctx.deps.security;
  return [
    route({
      id: "listWorkerKeys",
      method: "get",
      path: "/v1/keys/workers",
      summary: "Per-Worker keys: the version each target ships and the versions that verify (never a key)",
      role: "viewer",
      response: z.array(WorkerKeySchema),
      handle: ({ tenant }) => workerKeys.list(tenant).map(({ tenant: _t, ...k }) => k),
    }),
    route({
      id: "rotateWorkerKey",
      method: "post",
      path: "/v1/keys/workers/:worker/rotate",
      summary: "New per-Worker keys (old ones verify until a release ships the new ones) and that release, started",
      role: "admin",
      params: WorkerKeyParamsSchema,
      body: RotateWorkerKeyBodySchema,
      status: 202,
      response: KeyRotationSchema,
      errors: [404, 409, 503],
      audit: { action: "key.rotate", target: ({ params }) => `worker:${params.worker}` },
      async handle({ params, body, principal, tenant }) {
        const worker = requireWorker(ctx.deps.spec(), params.worker);
        if (body.target && !worker.targets.includes(body.target))
          throw new CboError("ERR_NOT_FOUND", `Worker ${worker.name} does not run on ${body.target}.`, {
            details: { targets: worker.targets },
          });
        const have = workerKeys.list(tenant).filter((k) => k.worker === worker.name && (!body.target || k.target === body.target));
        if (have.length === 0)
          throw new CboError("ERR_NOT_FOUND", `Worker ${worker.name} has no key yet${body.target ? ` on ${body.target}` : ""}.`, {
            hint: "Keys are made by the first release of a Worker that uses relay secrets.",
          });
        const running = store.releases.unfinished().find((r) => r.tenant === tenant && r.worker === worker.name);
        if (running)
          throw new CboError("ERR_CONFLICT", `Worker ${worker.name} has a release in progress (${running.id}).`, {
            hint: "Rotate when it has finished.",
          });
        const actor = actorOf(principal!);
        // The new keys and their audit entry commit together (the vault writes are audited inside too).
        transaction(store.db, () => {
          const rotated = have.map((k) => ({
            target: k.target,
            ...workerKeys.rotate({ tenant, worker: worker.name, target: k.target }, actor),
          }));
          trail.record({
            actor,
            action: "key.rotate",
            target: `worker:${worker.name}`,
            tenant,
            outcome: "ok",
            details: { targets: rotated.map((r) => r.target), versions: rotated.map((r) => r.version) },
          });
        });
        // New keys must ship even when nothing else changed: never an `unchanged` no-op.
        // Recorded as every release records who started it (routes-releases.ts): the token's name.
        const release = body.release ? await engine.release(worker.name, { by: principal!.name, force: true }) : null;
        const keys = workerKeys
          .list(tenant)
          .filter((k) => k.worker === worker.name)
          .map(({ tenant: _t, ...k }) => k);
        return { keys, release };
      },
    }),
  ];
}
