// Heartbeats from edge agents: signed with the per-Worker key (no token), like the relay. A
// refused heartbeat is a security event (audited as agent.denied); an accepted one is a report,
// stored in batches (src/sync/heartbeats.ts). The answer tells the agent the config version its
// target was last given, so an agent that missed a poke refreshes at once.
//
// This is the busiest route (every isolate of every Worker, every interval), so it does the
// minimum per request: the body is read straight off the socket with its 16 KiB limit
// (body-limit.ts), parsed once (by the route's schema), the Worker's keys are imported as
// CryptoKeys once per key version, and storing is batched.
//
// Refusals are recorded through the auth gate under the client's address (grouped and counted
// past the first few, denials.ts), and signature failures count against that address like wrong
// tokens: while it is locked they are answered 429. Every heartbeat is still verified, so a
// correctly signed one always gets in, even from an address others abuse (all Workers reach the
// daemon from the same few addresses).
import { HeartbeatAcceptedSchema } from "../contract/index.ts";
import { CboError } from "../kit/errors.ts";
import { HEARTBEAT_PATH, SIGNATURE_HEADER } from "../kit/protocol/bindings.ts";
import { type EdgeSpan, type Heartbeat, HeartbeatSchema, MAX_HEARTBEAT_BODY_BYTES } from "../kit/protocol/heartbeat.ts";
import type { FinishedSpan } from "../telemetry/index.ts";
import { createNonceCache, importHmacKey, signatureFailureError, verifySignature, type CryptoKey } from "../kit/signing/index.ts";
import type { RouteContext } from "./context.ts";
import { route, type RouteDef } from "./route.ts";

export function agentRoutes(ctx: RouteContext): RouteDef[] {
  const { store } = ctx.deps;
  const { workerKeys } = ctx.deps.security;
  const nonces = createNonceCache({ maxEntries: 200_000 });
  const imported = new Map<string, CryptoKey>();
  // The version each target was last given, for the answer: re-read at most every 250 ms (a
  // publish shows in the next answers; a poke has told the agents already).
  const given = new Map<string, { at: number; version: number | null }>();
  const givenVersion = (tenant: string, worker: string, target: string): number | null => {
    const k = `${tenant}/${worker}/${target}`;
    const hit = given.get(k);
    if (hit && Date.now() - hit.at < 250) return hit.version;
    const version = store.configs.targets(tenant, worker).find((t) => t.target === target)?.version ?? null;
    given.set(k, { at: Date.now(), version });
    return version;
  };

  async function keysFor(tenant: string, worker: string, target: string): Promise<Array<{ id: string; key: CryptoKey }>> {
    const out = [];
    for (const k of workerKeys.verifying({ tenant, worker, target }, `worker:${worker}@${target}`)) {
      const id = `${tenant}/${worker}/${target}@${k.version}`;
      let key = imported.get(id);
      if (!key) imported.set(id, (key = await importHmacKey(k.key)));
      out.push({ id: String(k.version), key });
    }
    return out;
  }

  return [
    route({
      id: "agentHeartbeat",
      method: "post",
      path: HEARTBEAT_PATH,
      summary: "An edge agent's heartbeat: versions it runs and its traffic (signed with its per-Worker key, no token)",
      role: null,
      signatureHeader: SIGNATURE_HEADER,
      hot: true,
      maxBodyBytes: MAX_HEARTBEAT_BODY_BYTES,
      body: HeartbeatSchema,
      status: 202,
      response: HeartbeatAcceptedSchema,
      errors: [401, 413, 429, 503],
      async handle({ body: hb, signed, tenant, client }) {
        const deny = (reason: string, e: CboError): never => {
          ctx.deps.metrics?.heartbeatsRefused.inc({ reason });
          return ctx.gate.refuseSigned({
            client: client(),
            error: e,
            failure: true,
            entry: {
              actor: `worker:${hb.worker}@${hb.target}`,
              action: "agent.denied",
              target: "heartbeat",
              tenant,
              outcome: "denied",
              details: { reason },
            },
          });
        };
        const w = ctx.deps.spec().workers.find((x) => x.name === hb.worker);
        const keys = w?.targets.includes(hb.target) ? await keysFor(tenant, hb.worker, hb.target) : [];
        if (keys.length === 0)
          deny(
            "unknown_worker",
            new CboError("ERR_UNAUTHORIZED", "No key for this Worker on this target.", { details: { reason: "unknown_worker" } }),
          );
        const check = await verifySignature(signed!.signature, signed!.raw, keys, {
          nonceCache: nonces,
          replayScope: `heartbeat:${hb.worker}/${hb.target}`,
          // An isolate sends at most one heartbeat per send time: that pair, read from the signed
          // body, identifies the message (and spares a SHA-256 per heartbeat).
          replayKey: `${hb.isolate}|${hb.sentAt}|${hb.window.sinceMs}`,
        });
        if (!check.ok) deny(check.reason, signatureFailureError(check.reason));
        if (!ctx.deps.heartbeats) throw new CboError("ERR_INTERNAL", "heartbeats are not wired");
        ctx.deps.heartbeats.add(tenant, hb);
        const m = ctx.deps.metrics;
        if (m) {
          // Signed by a key of a worker on a target of the spec: bounded labels.
          const who = { worker: hb.worker, target: hb.target };
          m.heartbeats.inc(who);
          m.workerRequests.inc(who, hb.window.requests);
          m.workerErrors.inc(who, hb.window.errors);
        }
        // The agent's spans (its handling of traced requests) join the daemon's in the export.
        if (hb.spans && hb.spans.length > 0) ctx.deps.tracer?.exportRemote(hb.spans.map((s) => edgeSpan(s, hb)));
        return { configVersion: givenVersion(tenant, hb.worker, hb.target), spans: true };
      },
    }),
  ];
}

/** An agent's span as the exporter takes it: under the edge agent's resource, named by who ran it. */
function edgeSpan(s: EdgeSpan, hb: Heartbeat): FinishedSpan {
  return {
    traceId: s.traceId,
    spanId: s.spanId,
    parentSpanId: s.parentSpanId,
    name: s.name,
    kind: "server",
    startMs: s.startMs,
    endMs: s.startMs + s.durationMs,
    attributes: {
      "cbo.worker": hb.worker,
      "cbo.target": hb.target,
      "cbo.isolate": hb.isolate,
      "cbo.version_id": hb.versionId ?? undefined,
      "http.response.status_code": s.status,
    },
    ...(s.status === 0 || s.status >= 500 ? { error: s.status === 0 ? "threw" : `HTTP ${s.status}` } : {}),
    origin: "edge",
  };
}
