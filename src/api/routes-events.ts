// The event log (paged, and as a WebSocket stream) and current health.
import * as z from "zod";
import { CboError } from "../kit/errors.ts";
import type { RouteContext } from "./context.ts";
import { decodeCursor, pageFrom } from "./cursor.ts";
import { route, type RouteDef } from "./route.ts";
import {
  ErrorBodySchema,
  EventPageSchema,
  EventSchema,
  EventsQuerySchema,
  HealthQuerySchema,
  HealthRowSchema,
  StreamQuerySchema,
} from "../contract/index.ts";

export const STREAM_PATH = "/v1/events/stream";

export function eventRoutes(ctx: RouteContext): RouteDef[] {
  const { store } = ctx.deps;
  return [
    route({
      id: "listEvents",
      method: "get",
      path: "/v1/events",
      summary:
        "Stored events with id > after, oldest first (order=desc: newest first), a page at a time (?limit=&cursor=; `next` until the last page)",
      role: "viewer",
      query: EventsQuerySchema,
      response: EventPageSchema,
      handle({ query, tenant }) {
        const limit = query.limit ?? 1000;
        const order = query.order ?? "asc";
        const filters = { after: query.after, release: query.release, order };
        const at = query.cursor ? Number(decodeCursor("events", filters, query.cursor)[0]) : undefined;
        const rows = store.events.list({
          tenant,
          // The cursor is the last id sent: ascending pages go on above it, descending ones below.
          after: order === "asc" && at !== undefined ? at : (query.after ?? 0),
          ...(order === "desc" && at !== undefined ? { before: at } : {}),
          limit: limit + 1,
          order,
          ...(query.release ? { releaseId: query.release } : {}),
        });
        return pageFrom(rows, limit, { list: "events", filters, position: (e) => [e.id], item: (e) => e });
      },
    }),
    route({
      id: "streamEvents",
      method: "get",
      path: STREAM_PATH,
      summary: "WebSocket: every stored event with id > after, then live ones, one JSON StoredEvent per text message",
      role: "viewer",
      query: StreamQuerySchema,
      response: ErrorBodySchema,
      websocket: {
        message: EventSchema,
        description:
          "Upgrade to a WebSocket. The token goes in the Authorization header, or (browsers) in the subprotocol list as " +
          "`cbo.token.<token>` beside `cbo.v1` (Sec-WebSocket-Protocol: cbo.v1, cbo.token.<token>); the answer names cbo.v1 only. " +
          "A token in the URL (?token=) is refused with 400 ERR_TOKEN_IN_URL before the upgrade: URLs end up in logs. " +
          "The server sends every stored event with id > after, then each new event as it is recorded: no gap and no duplicate " +
          "between the two. Resume after a disconnect with ?after=<last id received>. Close codes: 1008 bad or missing token " +
          "or role too low (the reason starts with the error code), 4400 invalid query, 1013 client too slow (too much unsent data), " +
          "1001 daemon shutting down. The server pings every 30 s and drops a client that missed the previous ping.",
      },
      handle() {
        throw new CboError("ERR_VALIDATION", `${STREAM_PATH} speaks WebSocket only: send an Upgrade request.`, {
          hint: "Use a WebSocket client (cbo events --follow does).",
        });
      },
    }),
    route({
      id: "listHealth",
      method: "get",
      path: "/v1/health/workers",
      summary: "Current health of every worker in every target, as the monitor last saw it",
      role: "viewer",
      query: HealthQuerySchema,
      response: z.array(HealthRowSchema),
      async handle({ query, tenant }) {
        if (query.fresh === "1" && ctx.deps.monitor) await ctx.deps.monitor.checkNow();
        return store.health.list(tenant);
      },
    }),
  ];
}
