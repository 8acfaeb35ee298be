// workerd's trace of one invocation (a TraceItem, as the tail Worker got it) and the message a
// `wrangler tail` client receives for it: wrangler's TailEventMessage (workers-sdk
// packages/wrangler/src/tail/createTail.ts), with the script name and version the edge knows.
import * as z from "zod";

const LogSchema = z.object({ message: z.array(z.unknown()), level: z.string(), timestamp: z.number() }).loose();
const ExceptionSchema = z.object({ name: z.string(), message: z.unknown(), timestamp: z.number(), stack: z.string().optional() }).loose();

export const TraceItemSchema = z
  .object({
    outcome: z.string(),
    eventTimestamp: z.number().nullable(),
    logs: z.array(LogSchema),
    exceptions: z.array(ExceptionSchema),
    entrypoint: z.string().optional(),
    event: z
      .object({
        request: z
          .object({ url: z.string(), method: z.string(), headers: z.record(z.string(), z.string()) })
          .loose()
          .optional(),
      })
      .loose()
      .nullable(),
  })
  .loose();
export type TraceItem = z.infer<typeof TraceItemSchema>;

export const TailPostSchema = z.object({ script: z.string().min(1), versionId: z.string().min(1), events: z.array(TraceItemSchema) });

export type VersionInfo = { id: string; tag?: string; message?: string };

/**
 * The message for one invocation. workerd leaves `scriptName` empty and `cpuTime`/`wallTime` at 0
 * for a Worker it loaded dynamically; the edge names the script and version and drops the zeros
 * rather than pass them on as measurements.
 */
export function tailMessage(item: TraceItem, script: string, version: VersionInfo): Record<string, unknown> {
  const {
    cpuTime: _cpu,
    wallTime: _wall,
    scriptName: _name,
    ...rest
  } = item as TraceItem & { cpuTime?: unknown; wallTime?: unknown; scriptName?: unknown };
  return {
    ...rest,
    outcome: item.outcome,
    scriptName: script,
    scriptVersion: version,
    ...(item.entrypoint !== undefined ? { entrypoint: item.entrypoint } : {}),
    exceptions: item.exceptions,
    logs: item.logs,
    eventTimestamp: item.eventTimestamp,
    event: item.event,
  };
}
