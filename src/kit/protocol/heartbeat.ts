// Heartbeats: each isolate of a Worker tells the orchestrator which code version and config
// version it runs and how its traffic went, at most once per interval, plus from a cron trigger
// so that an idle Worker still reports. POST ${CBO_ORCHESTRATOR_URL}/v1/agent/heartbeat, body
// HeartbeatSchema as JSON, `cbo-signature` = HMAC with the per-Worker key.
//
// The counters are per isolate: `totals` since the isolate started, `window` since its previous
// delivered heartbeat (a failed send folds its window into the next one), so the gate can compute
// a canary version's error rate from the windows of the isolates running that version id.
// `rejections` lists config bundles the agent refused since its previous delivered heartbeat, so
// the orchestrator can raise an event for each.
//
// Traces: the agent continues the trace of a request that came with a `traceparent` (a gate probe,
// a poke, a traced client) as a span of its own, and sends those spans back in `spans`, which the
// orchestrator exports with its own. An optional member, sent only once the orchestrator's answer
// said it takes them (`spans: true`), so that a newer agent never trips an older orchestrator's
// strict schema; each heartbeat request also carries the newest such span as its `traceparent`
// header, which any orchestrator may ignore.
import * as z from "zod";
import { signPayload, verifySignature } from "../signing/index.ts";
import type { HmacKey, NonceCache, SignatureFailureReason } from "../signing/index.ts";
import { NameSchema, SIGNATURE_HEADER } from "./bindings.ts";
import { ConfigRejectionReasonSchema } from "./config-bundle.ts";

/** Most rejections one heartbeat carries; older ones beyond this are counted, not listed. */
export const MAX_HEARTBEAT_REJECTIONS = 20;
/** Most spans one heartbeat carries; more in one interval are dropped (the oldest first). */
export const MAX_HEARTBEAT_SPANS = 16;
export const MAX_HEARTBEAT_BODY_BYTES = 16 * 1024;

const Count = z.number().int().min(0);

export const ConfigRejectionSchema = z
  .object({
    reason: ConfigRejectionReasonSchema,
    /** The version the refused bundle claimed, when it could be read. */
    version: z.number().int().min(1).optional(),
    at: z.iso.datetime(),
  })
  .strict();
export type ConfigRejection = z.infer<typeof ConfigRejectionSchema>;

const Hex = (n: number) => z.string().regex(new RegExp(`^[0-9a-f]{${n}}$`));

/** A span of the agent's: its handling of one traced request, a child of the caller's span. */
export const EdgeSpanSchema = z
  .object({
    traceId: Hex(32),
    spanId: Hex(16),
    parentSpanId: Hex(16),
    /** `edge.request` (the Worker's own routes) or `edge.agent` (the agent's: health, poke). */
    name: z.enum(["edge.request", "edge.agent"]),
    startMs: Count,
    durationMs: Count,
    /** The answer's HTTP status; 0 when the handler threw. */
    status: z.number().int().min(0).max(999),
  })
  .strict();
export type EdgeSpan = z.infer<typeof EdgeSpanSchema>;

export const HeartbeatSchema = z
  .object({
    worker: NameSchema,
    target: NameSchema,
    /** The Worker's version id (version metadata); null when the binding is missing. */
    versionId: z.string().min(1).max(100).nullable(),
    /** The config version applied; null before any verified bundle. */
    configVersion: z.number().int().min(1).nullable(),
    /** Random id of the isolate, so per-isolate counters are not added up twice. */
    isolate: z.string().min(1).max(64),
    sentAt: z.iso.datetime(),
    uptimeMs: Count,
    totals: z.object({ requests: Count, errors: Count }).strict(),
    /** Since `sinceMs` (epoch ms, the end of the previous delivered window or the isolate's start). */
    window: z.object({ sinceMs: Count, requests: Count, errors: Count }).strict(),
    rejections: z.array(ConfigRejectionSchema).max(MAX_HEARTBEAT_REJECTIONS),
    /** The agent's spans since its previous delivered heartbeat (only to an orchestrator that takes them). */
    spans: z.array(EdgeSpanSchema).max(MAX_HEARTBEAT_SPANS).optional(),
  })
  .strict();
export type Heartbeat = z.infer<typeof HeartbeatSchema>;

/**
 * The orchestrator's answer to a delivered heartbeat: the config version this target was last
 * given, so that an agent that missed a poke re-reads KV at once instead of at its next poll.
 * Loose: the orchestrator may add fields.
 */
export const HeartbeatAnswerSchema = z
  .object({
    configVersion: z.number().int().min(1).nullable(),
    /** The orchestrator takes `spans` in heartbeats (an older one leaves this out). */
    spans: z.boolean().optional(),
  })
  .loose();
export type HeartbeatAnswer = z.infer<typeof HeartbeatAnswerSchema>;

/** The Worker's side: the body and headers to POST to HEARTBEAT_PATH. */
export async function createHeartbeatRequest(
  heartbeat: Heartbeat,
  key: HmacKey,
  opts: { now?: () => number } = {},
): Promise<{ body: string; headers: Record<string, string> }> {
  const body = JSON.stringify(HeartbeatSchema.parse(heartbeat));
  const signature = await signPayload(body, key, opts.now ? { now: opts.now } : {});
  return { body, headers: { "content-type": "application/json", [SIGNATURE_HEADER]: signature } };
}

export type HeartbeatFailureReason = SignatureFailureReason | "malformed_body" | "unknown_worker";
export type HeartbeatCheck = { ok: true; heartbeat: Heartbeat; keyIndex: number } | { ok: false; reason: HeartbeatFailureReason };

/**
 * The orchestrator's side. The sender's key depends on who it claims to be, so the body's worker
 * and target are read first (and only used to pick keys); nothing else in it is trusted until the
 * signature verifies. `keysFor` answers the current key and, during a rotation, the previous one,
 * or undefined for a Worker the orchestrator does not know.
 */
export async function verifyHeartbeatRequest(
  header: string | null | undefined,
  body: string,
  keysFor: (who: { worker: string; target: string }) => HmacKey[] | undefined | Promise<HmacKey[] | undefined>,
  opts: { nonceCache?: NonceCache; now?: () => number } = {},
): Promise<HeartbeatCheck> {
  if (new TextEncoder().encode(body).length > MAX_HEARTBEAT_BODY_BYTES) return { ok: false, reason: "malformed_body" };
  let parsed: z.ZodSafeParseResult<Heartbeat>;
  try {
    parsed = HeartbeatSchema.safeParse(JSON.parse(body));
  } catch {
    return { ok: false, reason: "malformed_body" };
  }
  if (!parsed.success) return { ok: false, reason: "malformed_body" };
  const { worker, target } = parsed.data;
  const keys = await keysFor({ worker, target });
  if (keys === undefined || keys.length === 0) return { ok: false, reason: "unknown_worker" };
  const check = await verifySignature(header, body, keys, {
    replayScope: `heartbeat:${worker}/${target}`,
    ...(opts.nonceCache ? { nonceCache: opts.nonceCache } : {}),
    ...(opts.now ? { now: opts.now } : {}),
  });
  if (!check.ok) return { ok: false, reason: check.reason };
  return { ok: true, heartbeat: parsed.data, keyIndex: check.keyIndex };
}
