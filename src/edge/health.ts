// The agent's health answer: who this is, which code and config versions it runs, how long the
// isolate has lived, its request and error counts, refused config bundles and anything
// misconfigured. The route is public: no config content, no key, no secret value or name.
import type { AgentRuntime } from "./runtime.ts";

const iso = (ms: number) => new Date(ms).toISOString();

export function healthBody<C>(rt: AgentRuntime<C>, now: number) {
  const applied = rt.config?.applied();
  const configError = rt.config?.lastError();
  const problems = [...rt.settings.problems, ...(configError ? [configError] : [])];
  return {
    ok: applied !== undefined && configError === undefined,
    worker: rt.settings.worker ?? null,
    target: rt.settings.target ?? null,
    versionId: rt.settings.versionId,
    configVersion: applied?.payload.version ?? null,
    isolate: rt.isolate,
    startedAt: iso(rt.startedAt),
    uptimeMs: Math.max(0, now - rt.startedAt),
    requests: rt.traffic.totals(),
    config: applied
      ? {
          version: applied.payload.version,
          rollback: applied.payload.rollback,
          issuedAt: applied.payload.issuedAt,
          appliedAt: iso(applied.appliedAt),
          checkedAt: iso(rt.config!.checkedAt()),
        }
      : null,
    rejections: { total: rt.rejections.total(), recent: rt.rejections.recent() },
    heartbeat: rt.heartbeats ? { sent: rt.heartbeats.sent(), last: rt.heartbeats.last() } : null,
    relay: rt.relay ? { cached: rt.relay.cachedCount() } : null,
    features: {
      config: rt.config !== undefined,
      poke: rt.config !== undefined && rt.settings.hmacKeys.length > 0,
      heartbeats: rt.heartbeats !== undefined,
      relay: rt.relay !== undefined,
    },
    problems,
  };
}
