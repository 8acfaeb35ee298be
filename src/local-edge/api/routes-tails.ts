// /accounts/:acct/workers/scripts/:name/tails: the tail sessions `wrangler tail` creates, lists
// and deletes (CLOUDFLARE-API-FLEET.md §9.2). The create body is `{"filters": [...]}`, sent
// without a Content-Type. The answer's `url` is the session's WebSocket (tail/hub.ts).
import { Hono } from "hono";
import type { ScriptStore } from "../state/scripts.ts";
import { TailCreateSchema } from "../tail/filters.ts";
import { MAX_TAILS_PER_SCRIPT, type TailHub } from "../tail/hub.ts";
import { badRequest, CF_CODES, CfApiError, notFoundScript, ok } from "./envelope.ts";
import { parseJson } from "./json-body.ts";
import type { EdgeEnv } from "./routes-workers.ts";

export type TailRouteDeps = {
  scripts: ScriptStore;
  tails: TailHub;
  /** Pushes the account's routing table (which scripts load with the tail Worker). */
  notify: (accountId: string) => Promise<void>;
};

const tailJson = (s: { id: string; expiresAt: number; secret: string }, base: string) => ({
  id: s.id,
  url: `${base}/__edge/tail/${s.id}?key=${s.secret}`,
  expires_at: new Date(s.expiresAt).toISOString(),
});

export function tailRoutes(deps: TailRouteDeps) {
  const app = new Hono<EdgeEnv>();
  const wsBase = (requestUrl: string) => {
    const u = new URL(requestUrl);
    return `${u.protocol === "https:" ? "wss:" : "ws:"}//${u.host}`;
  };
  const existing = (acct: string, name: string) => {
    if (!deps.scripts.get(acct, name)) throw notFoundScript(name);
  };

  app.post("/workers/scripts/:name/tails", async (c) => {
    const acct = c.var.account.id;
    const name = c.req.param("name");
    existing(acct, name);
    const text = await c.req.text();
    const parsed = TailCreateSchema.safeParse(text.trim() === "" ? {} : parseJson(text, "Request body"));
    if (!parsed.success) {
      const i = parsed.error.issues[0]!;
      throw badRequest(`Invalid tail filters at ${i.path.join(".") || "body"}: ${i.message}`);
    }
    if (deps.tails.list(acct, name).length >= MAX_TAILS_PER_SCRIPT) {
      throw new CfApiError(
        429,
        CF_CODES.TOO_MANY_TAILS,
        `At most ${MAX_TAILS_PER_SCRIPT} tail sessions can watch a Worker at once; delete one first.`,
      );
    }
    const session = deps.tails.create(acct, name, parsed.data.filters);
    // Once this answers, every new invocation of the script is traced.
    await deps.notify(acct);
    return ok(c, tailJson(session, wsBase(c.req.url)));
  });

  app.get("/workers/scripts/:name/tails", (c) => {
    const acct = c.var.account.id;
    const name = c.req.param("name");
    existing(acct, name);
    return ok(
      c,
      deps.tails.list(acct, name).map((s) => tailJson(s, wsBase(c.req.url))),
    );
  });

  app.delete("/workers/scripts/:name/tails/:id", async (c) => {
    const acct = c.var.account.id;
    const name = c.req.param("name");
    existing(acct, name);
    if (!deps.tails.remove(acct, name, c.req.param("id")))
      throw new CfApiError(404, CF_CODES.TAIL_NOT_FOUND, `No tail session ${c.req.param("id")} on ${name}.`);
    await deps.notify(acct);
    return ok(c, null);
  });
  return app;
}
