// The agent around a Worker's module handlers: `export default agent.wrap({ fetch, … })`, or
// `agent.wrap(app)` for a Hono app. Requests under /orchestrator/ go to the agent's routes; every
// other request goes to the Worker's own fetch, counted with its outcome (5xx or thrown is an
// error; a throw is passed on unchanged). `scheduled` runs the agent's cron work, then the
// Worker's own scheduled handler if it has one.
//
// Once the agent has started, the wrapper adds no promise of its own: a handler that answers
// synchronously (a Hono route returning c.json(…) does) is answered synchronously, which is what
// keeps the agent's cost per request near zero (an await per request measurably is not).
import { Hono } from "hono";
import { AGENT_MOUNT_PATH } from "../kit/protocol/index.ts";
import type { AgentCore } from "./core.ts";
import { isAgentUrl } from "./core.ts";
import type { AgentRuntime } from "./runtime.ts";
import type { AgentEnv } from "./types.ts";

export type Scheduled = (controller: ScheduledController, env: AgentEnv, ctx: ExecutionContext) => Promise<void>;

type FetchResult = Response | Promise<Response>;

const PASSED_ON = ["queue", "tail", "trace", "email", "test", "tailStream"] as const;

export function createWrap<C>(core: AgentCore<C>, routes: Hono<{ Bindings: AgentEnv }>, scheduled: Scheduled) {
  const mounted = new Hono<{ Bindings: AgentEnv }>().route(AGENT_MOUNT_PATH, routes);
  return function wrap<E>(handler: ExportedHandler<E>): ExportedHandler<E> {
    const fetchHandler = handler.fetch?.bind(handler);

    function serve(
      rt: AgentRuntime<C>,
      request: Request<unknown, IncomingRequestCfProperties>,
      env: E,
      ctx: ExecutionContext,
    ): FetchResult {
      // Before the due work: a new isolate's first heartbeat, sent now, already carries this trace.
      const traced = rt.traces.start(request, "edge.request");
      if (rt.due()) rt.runDue((p) => ctx.waitUntil(p));
      if (!fetchHandler) {
        rt.traffic.record(false);
        traced?.(404);
        return new Response("Not Found", { status: 404 });
      }
      let res: FetchResult;
      try {
        res = fetchHandler(request, env, ctx);
      } catch (e) {
        rt.traffic.record(true);
        traced?.(0);
        throw e;
      }
      if (res instanceof Response) {
        rt.traffic.record(res.status >= 500);
        traced?.(res.status);
        return res;
      }
      return Promise.resolve(res).then(
        (r) => (rt.traffic.record(r.status >= 500), traced?.(r.status), r),
        (e: unknown) => {
          rt.traffic.record(true);
          traced?.(0);
          throw e;
        },
      );
    }

    const others: ExportedHandler<E> = {};
    // Only handler entry points are passed on (a Hono app given as the handler has many more keys).
    for (const name of PASSED_ON) if (handler[name] !== undefined) (others as Record<string, unknown>)[name] = handler[name];
    return {
      ...others,
      fetch(request, env, ctx) {
        const agentEnv = env as AgentEnv;
        if (isAgentUrl(request.url)) return mounted.fetch(request, agentEnv, ctx);
        const rt = core.current();
        return rt ? serve(rt, request, env, ctx) : core.ensure(agentEnv).then((started) => serve(started, request, env, ctx));
      },
      async scheduled(controller, env, ctx) {
        await scheduled(controller, env as AgentEnv, ctx);
        await handler.scheduled?.(controller, env, ctx);
      },
    };
  };
}
