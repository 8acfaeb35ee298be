// Tail sessions, as `wrangler tail` uses them (CLOUDFLARE-API-FLEET §9.2): create one on a script
// (`{id, url, expires_at}`; `url` is the session's WebSocket, speaking `trace-v1`, authorized by
// the URL itself), list a script's sessions, delete one. Cloudflare lets 10 watch a Worker at once.
import * as z from "zod";
import { type ApiContext, seg } from "./context.ts";

export const TailSessionSchema = z.looseObject({ id: z.string().min(1), url: z.string().min(1), expires_at: z.string().nullish() });
export type TailSession = z.infer<typeof TailSessionSchema>;

/** A filter as wrangler sends it (`{"outcome": ["ok"]}`, `{"query": "text"}`, `{"scriptVersion": id}` …). */
export type TailFilter = Record<string, unknown>;

/** The WebSocket subprotocol of tail sessions. */
export const TAIL_PROTOCOL = "trace-v1";

export function createTailsApi(ctx: ApiContext) {
  const tails = async (script: string) => `/accounts/${seg(await ctx.accountId())}/workers/scripts/${seg(script)}/tails`;
  return {
    /** A new session on the script; connect to its `url` with the `trace-v1` subprotocol. */
    async createTail(script: string, filters: TailFilter[] = []): Promise<TailSession> {
      return ctx.json("POST", await tails(script), TailSessionSchema, { endpoint: "workers.tails.create", body: { filters } });
    },
    async listTails(script: string): Promise<TailSession[]> {
      return ctx.json("GET", await tails(script), z.array(TailSessionSchema), { endpoint: "workers.tails.list" });
    },
    async deleteTail(script: string, id: string): Promise<void> {
      await ctx.json("DELETE", `${await tails(script)}/${seg(id)}`, z.unknown(), { endpoint: "workers.tails.delete" });
    },
  };
}
