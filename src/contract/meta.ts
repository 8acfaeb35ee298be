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

/**
 * orchestrator.yaml on disk, refused (it does not validate, or changes what takes a restart): the
 * daemon goes on with the spec it had. Authenticated answers carry it (GET /v1/status, and the
 * SPEC_REFUSED_HEADER on every response); the public health route says only that there is one.
 */
export const SpecRefusalSchema = z.object({
  file: z.string(),
  reason: z.string().describe("Why the file is refused (the validation errors, with their paths)"),
  since: z.string().describe("When the daemon first saw the refused file"),
});
export type SpecRefusal = z.output<typeof SpecRefusalSchema>;

/** On every answer to an authenticated request while the spec file is refused: `<file>: <reason>`, one line, percent-encoded beyond printable ASCII. */
export const SPEC_REFUSED_HEADER = "cbo-spec-refused";

/** The header's value: one line of printable ASCII (anything else, and `%`, percent-encoded), at most `max` characters. */
export function encodeSpecRefused(r: SpecRefusal, max = 1000): string {
  const line = `${r.file}: ${r.reason}`.replace(/\s*\n\s*/g, "; ");
  const encoded = line.replace(/[^\x20-\x24\x26-\x7e]/gu, (c) => encodeURIComponent(c));
  // Cut short without splitting an escape (`%E2%8` would not decode).
  return encoded.length > max ? `${encoded.slice(0, max).replace(/%[0-9A-F]?$/i, "")}...` : encoded;
}

export function decodeSpecRefused(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

export const DaemonHealthSchema = OkSchema.extend({
  storage: StorageHealthSchema,
  tunnel: TunnelHealthSchema.optional(),
  specRefused: z
    .boolean()
    .optional()
    .describe("True while orchestrator.yaml on disk is refused and the daemon keeps the previous spec (GET /v1/status says why)"),
});
export type DaemonHealth = z.output<typeof DaemonHealthSchema>;
