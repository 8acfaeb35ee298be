// The agent's own routes, as a Hono sub-app mounted at /orchestrator: GET /health and the signed
// POST /poke. Error answers use the API's shape, {error: {code, message, details}}.
import { Hono } from "hono";
import type { Context } from "hono";
import { CboError } from "../kit/errors.ts";
import { MAX_POKE_BODY_BYTES, SIGNATURE_HEADER, verifyPokeRequest } from "../kit/protocol/index.ts";
import { signatureFailureError } from "../kit/signing/index.ts";
import type { AgentCore } from "./core.ts";
import { detached } from "./core.ts";
import { healthBody } from "./health.ts";
import type { AgentEnv } from "./types.ts";
import type { AgentRuntime } from "./runtime.ts";
import { readUpTo } from "../kit/read-up-to.ts";

type AgentHono = { Bindings: AgentEnv };

const fail = (c: Context, err: CboError) => c.json(err.toJSON(), err.status as 400);

export function createAgentRoutes<C>(core: AgentCore<C>): Hono<AgentHono> {
  const app = new Hono<AgentHono>();

  app.get("/health", async (c) => {
    const rt = await core.ensure(c.env);
    rt.traces.start(c.req.raw, "edge.agent")?.(200);
    return c.json(healthBody(rt, Date.now()), 200, { "cache-control": "no-store" });
  });

  app.post("/poke", async (c) => {
    const rt = await core.ensure(c.env);
    // A poke from a config publish carries its trace: the agent's span ends with the answer.
    const traced = rt.traces.start(c.req.raw, "edge.agent");
    const res = await poke(c, rt);
    traced?.(res.status);
    return res;
  });

  async function poke(c: Context<AgentHono>, rt: AgentRuntime<C>): Promise<Response> {
    const { worker, target, hmacKeys } = rt.settings;
    if (!rt.config || worker === undefined || target === undefined || hmacKeys.length === 0) {
      return fail(
        c,
        new CboError(
          "ERR_NOT_FOUND",
          "This Worker's agent takes no pokes: its config or key bindings are missing (see /orchestrator/health).",
        ),
      );
    }
    const declared = Number(c.req.header("content-length") ?? "0");
    const body = declared > MAX_POKE_BODY_BYTES ? undefined : await textUpTo(c.req.raw, MAX_POKE_BODY_BYTES);
    if (body === undefined) {
      return fail(c, new CboError("ERR_VALIDATION", `A poke body is at most ${MAX_POKE_BODY_BYTES} bytes.`));
    }
    const check = await verifyPokeRequest(c.req.header(SIGNATURE_HEADER), body, hmacKeys, {
      expect: { worker, target },
      nonceCache: rt.nonceCache,
    });
    if (!check.ok) {
      if (check.reason === "malformed_body")
        return fail(
          c,
          new CboError("ERR_VALIDATION", "The poke body is not {worker, target, configVersion, nonce}.", {
            details: { reason: check.reason },
          }),
        );
      if (check.reason === "wrong_worker")
        return fail(
          c,
          new CboError("ERR_UNAUTHORIZED", "This poke is for another worker or target.", { details: { reason: check.reason } }),
        );
      return fail(c, signatureFailureError(check.reason));
    }
    const config = rt.config;
    const refreshing = rt.syncAndReport(() => config.refreshUntil(check.poke.configVersion));
    try {
      c.executionCtx.waitUntil(refreshing);
    } catch {
      detached(refreshing);
    }
    return c.json(
      { accepted: true, configVersion: rt.config.applied()?.payload.version ?? null, requested: check.poke.configVersion },
      202,
    );
  }

  return app;
}

/**
 * The body as text, or undefined once it passes `limit` bytes. Counted as it streams in: a chunked
 * body declares no length, and reading one of 100 MB whole (anyone may POST to /poke) would take
 * the isolate past its memory limit, and every request it was serving with it.
 */
async function textUpTo(req: Request, limit: number): Promise<string | undefined> {
  const bytes = await readUpTo(req.body, limit);
  return bytes === undefined ? undefined : new TextDecoder().decode(bytes);
}
