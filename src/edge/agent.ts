// createEdgeAgent: the library a Worker imports. Create it once at module scope; it starts on the
// first request of each isolate. With Hono, either
//
//   const agent = createEdgeAgent({ configSchema: MyConfig });
//   const app = new Hono();
//   app.route("/orchestrator", agent.app);     // GET /orchestrator/health, POST /orchestrator/poke
//   app.get("/", (c) => c.json(agent.config()));
//   export default agent.wrap(app);            // counts traffic; adds no promise to a sync answer
//
// or, to read the config as c.var.cboConfig, `app.use(agent.middleware)` (registered first) and
// `export default { fetch: app.fetch, scheduled: agent.scheduled }`. Any Hono middleware takes
// Hono off its single-handler fast path, so this costs a few % of a trivial route's throughput
// (bench/edge-agent.bench.ts measures both). Without Hono: `agent.wrap({ fetch(req, env, ctx) {…} })`.
// Give the Worker a cron trigger (e.g. every minute) so that an idle Worker still sends heartbeats.
import type { Hono, MiddlewareHandler } from "hono";
import { CboError } from "../kit/errors.ts";
import { AGENT_BINDINGS } from "../kit/protocol/index.ts";
import { createAgentCore } from "./core.ts";
import { createAgentMiddleware, type AgentVariables } from "./middleware.ts";
import { createAgentRoutes } from "./routes.ts";
import type { AgentEnv, EdgeAgentOptions } from "./types.ts";
import { createWrap, type Scheduled } from "./wrap.ts";

export type EdgeAgent<C> = {
  /** The agent's routes; mount at /orchestrator (AGENT_MOUNT_PATH). */
  readonly app: Hono<{ Bindings: AgentEnv }>;
  /** Register before the app's routes. */
  readonly middleware: MiddlewareHandler<{ Variables: AgentVariables<C> }>;
  /** Wraps plain module handlers (fetch, scheduled, …). */
  wrap<E>(handler: ExportedHandler<E>): ExportedHandler<E>;
  /** The cron trigger's work: re-read config, then send a heartbeat. */
  readonly scheduled: Scheduled;
  /** Starts the agent without a request (e.g. from a Durable Object or a queue handler). */
  start(env: AgentEnv): Promise<void>;
  /** The applied, verified config; undefined until one exists. Never an unverified bundle. */
  config(): C | undefined;
  configVersion(): number | null;
  /**
   * A relay secret's value, from memory while fresh, else from the orchestrator. Never log it.
   * Pass the request being served (`c.req.raw`) to carry its trace to the orchestrator's relay.
   */
  secret(name: string, from?: Request): Promise<string>;
};

export function createEdgeAgent<C = Record<string, unknown>>(options: EdgeAgentOptions<C> = {}): EdgeAgent<C> {
  const core = createAgentCore(options);
  const app = createAgentRoutes(core);
  const scheduled: Scheduled = async (_controller, env, ctx) => {
    const rt = await core.ensure(env);
    ctx.waitUntil(
      (async () => {
        await rt.config?.refresh();
        await rt.heartbeats?.send();
      })(),
    );
  };
  return {
    app,
    middleware: createAgentMiddleware(core),
    wrap: createWrap(core, app, scheduled),
    scheduled,
    start: async (env) => void (await core.ensure(env)),
    config: () => core.current()?.config?.applied()?.config,
    configVersion: () => core.current()?.config?.applied()?.payload.version ?? null,
    async secret(name, from) {
      const rt = core.current();
      if (!rt)
        throw new CboError("ERR_INTERNAL", "The edge agent has not started yet.", {
          hint: "Read secrets inside a request handled through agent.middleware or agent.wrap(), or call agent.start(env) first.",
        });
      if (!rt.relay) {
        throw new CboError(
          "ERR_VALIDATION",
          `Relay secrets need the ${AGENT_BINDINGS.worker}, ${AGENT_BINDINGS.target}, ${AGENT_BINDINGS.orchestratorUrl} and ${AGENT_BINDINGS.workerKey} bindings.`,
          {
            hint: "See /orchestrator/health for which binding is missing.",
          },
        );
      }
      return rt.relay.get(name, rt.traces.childOf(from));
    },
  };
}
