// The Hono middleware that makes the agent see an app's traffic: register it before the app's
// routes. It starts the agent on the first request, sets the verified config as the context
// variable `cboConfig`, counts each app request with its outcome (a 5xx answer or a thrown error
// is one error), and lets due background work (KV re-read, heartbeat) ride on waitUntil. The
// agent's own routes are not counted: probes of /orchestrator/health are not app traffic.
import type { Context, MiddlewareHandler } from "hono";
import type { AgentCore } from "./core.ts";
import { detached, isAgentPath } from "./core.ts";
import type { WaitUntil } from "./runtime.ts";
import type { AgentEnv } from "./types.ts";

export type AgentVariables<C> = {
  /** The applied, verified config; undefined until a verified bundle exists. */
  cboConfig: C | undefined;
};

function waitUntilOf(c: Context): WaitUntil {
  try {
    const ctx = c.executionCtx;
    return (p) => ctx.waitUntil(p);
  } catch {
    // No ExecutionContext (e.g. app.request() in a test): run it unattached.
    return detached;
  }
}

export function createAgentMiddleware<C>(core: AgentCore<C>): MiddlewareHandler<{ Variables: AgentVariables<C> }> {
  return async (c, next) => {
    const rt = core.current() ?? (await core.ensure(c.env as AgentEnv));
    c.set("cboConfig", rt.config?.applied()?.config);
    if (isAgentPath(c.req.path)) return next();
    const traced = rt.traces.start(c.req.raw, "edge.request");
    if (rt.due()) rt.runDue(waitUntilOf(c));
    try {
      await next();
    } catch (e) {
      // Only what Hono's onError did not turn into a response gets here.
      rt.traffic.record(true);
      traced?.(0);
      throw e;
    }
    rt.traffic.record(c.error !== undefined || c.res.status >= 500);
    traced?.(c.res.status);
  };
}
