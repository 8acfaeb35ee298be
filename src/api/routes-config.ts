// Config sync (issue 5): diff, publish, history and rollback of each worker's signed agent config.
// A publish is on the audit record before anything is written (fail closed); what each target
// reports applying arrives with heartbeats (routes-agent.ts).
import * as z from "zod";
import {
  ConfigDiffSchema,
  ConfigHistorySchema,
  ConfigParamsSchema,
  ConfigPublishBodySchema,
  ConfigPublishSchema,
  ConfigRollbackBodySchema,
} from "../contract/index.ts";
import { CboError } from "../kit/errors.ts";
import { maskSecretValues, type ConfigSync } from "../sync/index.ts";
import { actorOf, createdByOf } from "../security/index.ts";
import type { RouteContext } from "./context.ts";
import { route, type RouteDef } from "./route.ts";

export function configRoutes(ctx: RouteContext): RouteDef[] {
  const sync = (): ConfigSync => {
    if (!ctx.deps.configSync) throw new CboError("ERR_INTERNAL", "config sync is not wired");
    return ctx.deps.configSync;
  };
  return [
    route({
      id: "configDiff",
      method: "get",
      path: "/v1/workers/:name/config/diff",
      summary: "Per target: the config last published, the one the spec wants, and whether an agent runs it",
      role: "viewer",
      params: ConfigParamsSchema,
      response: z.array(ConfigDiffSchema),
      errors: [404],
      // Shown with secret-named keys masked, as in `changes`: a viewer reads this (the configs
      // themselves are published in clear to the targets' KV, not to the API's readers).
      handle: ({ params }) =>
        sync()
          .diff(params.name)
          .map((d) => ({
            ...d,
            published: d.published && { version: d.published.version, config: maskSecretValues(d.published.config) },
            desired: maskSecretValues(d.desired),
          })),
    }),
    route({
      id: "configHistory",
      method: "get",
      path: "/v1/workers/:name/config/history",
      summary: "Published config versions, newest first (without their contents)",
      role: "viewer",
      params: ConfigParamsSchema,
      response: z.array(ConfigHistorySchema),
      errors: [404],
      handle: ({ params }) =>
        sync()
          .history(params.name)
          .map((v) => ({
            version: v.version,
            hash: v.hash,
            rollbackOf: v.rollback_of,
            createdAt: v.created_at,
            ...createdByOf(v.created_by),
            targets: Object.keys(v.configs),
          })),
    }),
    route({
      id: "configPublish",
      method: "post",
      path: "/v1/workers/:name/config/publish",
      summary: "Signs the spec's config into a new version per target, writes it to each target's KV and pokes the Workers",
      role: "deployer",
      params: ConfigParamsSchema,
      body: ConfigPublishBodySchema,
      response: ConfigPublishSchema,
      errors: [404, 409, 503],
      audit: { action: "config.publish", target: ({ params }) => `worker:${params.name}` },
      handle: ({ params, body, principal }) => sync().publish(params.name, { by: actorOf(principal!), force: body.force }),
    }),
    route({
      id: "configRollback",
      method: "post",
      path: "/v1/workers/:name/config/rollback",
      summary: "Sends an earlier config version again, as a signed rollback bundle",
      role: "deployer",
      params: ConfigParamsSchema,
      body: ConfigRollbackBodySchema,
      response: ConfigPublishSchema,
      errors: [404, 503],
      audit: { action: "config.rollback", target: ({ params }) => `worker:${params.name}` },
      handle: ({ params, body, principal }) => sync().rollback(params.name, body.to, { by: actorOf(principal!) }),
    }),
  ];
}
