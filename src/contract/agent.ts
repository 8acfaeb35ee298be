// What Workers' edge agents send the daemon (signed, no token): heartbeats and relay requests. The
// shapes are the edge protocol's (src/kit/protocol, src/kit/relay.ts: shared with src/edge/); the
// daemon's answer to a heartbeat is here.
import * as z from "zod";

export { HeartbeatSchema } from "../kit/protocol/heartbeat.ts";
export { RelayRequestSchema, RelayResponseSchema } from "../kit/relay.ts";

export const HeartbeatAcceptedSchema = z.object({
  configVersion: z.number().int().nullable().describe("The config version this target was last given"),
  spans: z.boolean().optional().describe("The orchestrator takes the agent's spans in heartbeats"),
});
