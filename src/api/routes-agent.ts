// Heartbeats from edge agents: signed with the per-Worker key (no token), like the relay. A
// refused heartbeat is a security event (audited as agent.denied); an accepted one is a report,
// stored in batches (src/sync/heartbeats.ts). The answer tells the agent the config version its
// target was last given, so an agent that missed a poke refreshes at once.
import { z } from "zod";
import { HEARTBEAT_PATH, SIGNATURE_HEADER } from "../kit/protocol/bindings.ts";
import { HeartbeatSchema, verifyHeartbeatRequest } from "../kit/protocol/heartbeat.ts";
import { createNonceCache, signatureFailureError } from "../kit/signing/index.ts";
import { CboError } from "../kit/errors.ts";
import type { RouteContext } from "./context.ts";
import { route, type RouteDef } from "./route.ts";

export function agentRoutes(ctx: RouteContext): RouteDef[] {
  const { store } = ctx.deps;
  const { workerKeys, trail } = ctx.deps.security;
  const nonces = createNonceCache({ maxEntries: 200_000 });
  return [
    route({
      id: "agentHeartbeat",
      method: "post",
      path: HEARTBEAT_PATH,
      summary: "An edge agent's heartbeat: versions it runs and its traffic (signed with its per-Worker key, no token)",
      role: null,
      signatureHeader: SIGNATURE_HEADER,
      body: HeartbeatSchema,
      status: 202,
      response: z.object({ configVersion: z.number().int().nullable().describe("The config version this target was last given") }),
      errors: [401, 503],
      async handle({ signed, tenant }) {
        const spec = ctx.deps.spec();
        const check = await verifyHeartbeatRequest(signed!.signature, signed!.raw, ({ worker, target }) => {
          const w = spec.workers.find((x) => x.name === worker);
          if (!w || !w.targets.includes(target)) return undefined;
          return workerKeys.verifying({ tenant, worker, target }, `worker:${worker}@${target}`).map((k) => k.key);
        }, { nonceCache: nonces });
        if (!check.ok) {
          const claimed = safeWho(signed!.raw);
          trail.note({ actor: claimed ? `worker:${claimed}` : "unknown", action: "agent.denied", target: "heartbeat", tenant, outcome: "denied", details: { reason: check.reason } });
          if (check.reason === "malformed_body") throw new CboError("ERR_VALIDATION", "The heartbeat body does not match the heartbeat schema.");
          if (check.reason === "unknown_worker") throw new CboError("ERR_UNAUTHORIZED", "No key for this Worker on this target.", { details: { reason: check.reason } });
          throw signatureFailureError(check.reason);
        }
        const hb = check.heartbeat;
        if (!ctx.deps.heartbeats) throw new CboError("ERR_INTERNAL", "heartbeats are not wired");
        ctx.deps.heartbeats.add(tenant, hb);
        const given = store.configs.targets(tenant, hb.worker).find((t) => t.target === hb.target);
        return { configVersion: given?.version ?? null };
      },
    }),
  ];
}

/** Who a refused heartbeat claimed to be, for the record (unauthenticated, so only the names). */
function safeWho(raw: string): string | undefined {
  try {
    const b = JSON.parse(raw) as { worker?: unknown; target?: unknown };
    const ok = (v: unknown) => typeof v === "string" && /^[a-z][a-z0-9-]{0,62}$/.test(v);
    return ok(b.worker) && ok(b.target) ? `${String(b.worker)}@${String(b.target)}` : undefined;
  } catch {
    return undefined;
  }
}
