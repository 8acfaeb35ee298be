// The routes that need no token: liveness (GET /v1/health) and the API's own description.
import * as z from "zod";
import { TunnelHealthSchema } from "./tunnel.ts";

export const OkSchema = z.object({ ok: z.literal(true) });
export const OpenApiDocumentSchema = z.record(z.string(), z.unknown());

/** Whether the disk under the data is full (store/storage.ts); no path, this route is public. */
export const StorageHealthSchema = z.object({
  full: z.boolean().describe("True while writes fail for lack of room: background work is paused, writes answer 507 ERR_DISK_FULL"),
  since: z.string().optional(),
  neededBytes: z.number().int().optional().describe("Free space at which writing resumes by itself"),
});

export const DaemonHealthSchema = OkSchema.extend({ storage: StorageHealthSchema, tunnel: TunnelHealthSchema.optional() });
export type DaemonHealth = z.output<typeof DaemonHealthSchema>;
