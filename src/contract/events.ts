// The typed event map: every lifecycle event the engine, the monitor, the drift checker and config
// sync append to the event log, each with the zod schema of its payload. The one list of events:
// the store takes only these (typed by payload), the API streams and documents them
// (GET /v1/events, the WebSocket stream, the OpenAPI document), clients read them.
//
// Payloads are loose objects: a field added later passes through an older reader. A field is
// required when every writer of the event sets it. Clients that print events read them as
// AnyEvent (any type, so that a daemon newer than the client still streams) and narrow with
// eventOf(), which checks the payload against its schema.
import * as z from "zod";
import { CursorQueryShape, pageOf } from "./pages.ts";
import { AnalysisSummarySchema } from "./release-control.ts";
import { DRIFT_KINDS, HEALTH_STATUSES, RELEASE_STATUSES } from "./statuses.ts";

const Split = z.array(z.object({ versionId: z.string(), percentage: z.number() }));
const VersionId = z.string().nullable();
const Reason = z.string();

/** A gate's verdict on one step (release.step.passed, and release.step.failed when a gate failed it). */
const GateOutcome = z.looseObject({
  percent: z.number(),
  versionId: z.string(),
  samples: z.number().int(),
  errors: z.number().int(),
  errorRate: z.number(),
  durationMs: z.number(),
  reason: Reason,
  /** The version's own traffic as its edge agents reported it, when the gate read it. */
  agentRequests: z.number().int().optional(),
  agentErrors: z.number().int().optional(),
  /** The canary-vs-baseline analysis of the step (invocation analytics), when analysis is on. */
  analysis: AnalysisSummarySchema.optional(),
});
/** A step stopped by the edge or by a write the store refused, not by its gate. */
const StageFailure = z.looseObject({ stage: z.string(), reason: Reason });
/** The end of a release that rolled back (or failed, or was aborted); recovery writes `recovered`. */
const ReleaseEnd = z.looseObject({
  reason: Reason,
  targets: z.array(z.looseObject({ target: z.string(), ok: z.boolean() })).optional(),
  untouched: z.array(z.string()).optional(),
  recovered: z.boolean().optional(),
});
const RollbackEnd = z.looseObject({
  reason: Reason,
  targets: z.array(z.looseObject({ target: z.string(), versionId: z.string(), ok: z.boolean(), error: z.string().optional() })).optional(),
  skipped: z.array(z.looseObject({ name: z.string(), why: z.string() })).optional(),
});

export const EVENT_PAYLOADS = {
  "release.created": z.looseObject({
    by: z.string().nullable(),
    bundleHash: z.string(),
    waves: z.array(z.array(z.string())),
    steps: z.array(z.number()),
    apiCalls: z.number().int(),
    targets: z.array(z.looseObject({ target: z.string(), previousVersionId: VersionId })),
    /** Started outside the release windows with --override-window: its reason. */
    windowOverride: z.looseObject({ reason: z.string(), window: z.string() }).optional(),
  }),
  "release.target.uploaded": z.looseObject({
    versionId: z.string(),
    previousVersionId: VersionId,
    /** The secret versions (and per-Worker key version) this target's version ships. */
    secrets: z.looseObject({ secrets: z.record(z.string(), z.number().int()), workerKey: z.number().int().optional() }).optional(),
  }),
  // One phase of a target's release done (resources, d1-migrations, assets, settings,
  // settings-restore; later issues add more): what it did, for people, and its figures.
  "release.phase.done": z.looseObject({ phase: z.string(), summary: z.string() }),
  "release.step.started": z.looseObject({ percent: z.number(), versionId: z.string(), previousVersionId: VersionId, split: Split }),
  "release.step.passed": GateOutcome,
  "release.step.failed": z.union([GateOutcome, StageFailure]),
  // Control (issue 15): someone paused, resumed or promoted the release; a target began to wait
  // (approval, timer, manual pause, analytics data) or stopped waiting.
  "release.paused": z.looseObject({ by: z.string().nullable(), reason: z.string().optional() }),
  "release.resumed": z.looseObject({ by: z.string().nullable(), reason: z.string().optional() }),
  "release.promoted": z.looseObject({ by: z.string().nullable(), reason: z.string().optional(), targets: z.array(z.string()) }),
  "release.waiting": z.looseObject({
    kind: z.enum(["approval", "timer", "manual", "data"]),
    percent: z.number(),
    until: z.string().nullable(),
    reason: Reason,
  }),
  "release.wait.ended": z.looseObject({
    kind: z.enum(["approval", "timer", "manual", "data"]),
    percent: z.number(),
    by: z.string().nullable(),
    waitedMs: z.number(),
  }),
  // The daemon stopped while the release waited, and its next start goes on with it from where
  // each target was (after the step whose gate it had passed), rather than roll it back.
  "release.continued": z.looseObject({
    reason: Reason,
    targets: z.array(z.looseObject({ target: z.string(), after: z.number(), versionId: z.string() })),
  }),
  // The release's Cloudflare requests wait for the token's request budget (960 per 5 minutes by
  // default): how long, about, and how many wait; said at most every few seconds while it lasts.
  "release.budget.waiting": z.looseObject({ waitMs: z.number(), queued: z.number().int(), reason: Reason }),
  // A release's Cloudflare request failed (429, 5xx, lost connection, an attempt timed out) and is
  // tried again: what, why, which attempt of how many, and when; at most every few seconds.
  "release.cloudflare.retrying": z.looseObject({
    method: z.string(),
    path: z.string(),
    attempt: z.number().int(),
    attempts: z.number().int(),
    why: z.string(),
    delayMs: z.number(),
    reason: Reason,
  }),
  "release.rolling_back": z.looseObject({ reason: Reason, kind: z.string(), targets: z.array(z.string()) }),
  "release.succeeded": z.looseObject({
    versions: z.record(z.string(), VersionId),
    bundleHash: z.string().optional(),
    recovered: z.boolean().optional(),
  }),
  // A release that would have changed nothing anywhere: recorded, nothing touched (no --force).
  "release.unchanged": z.looseObject({ by: z.string().nullable(), bundleHash: z.string(), reason: Reason }),
  "release.rolled_back": ReleaseEnd,
  "release.failed": ReleaseEnd,
  "release.aborted": ReleaseEnd,
  "release.recovered": z.looseObject({
    status: z.enum(RELEASE_STATUSES),
    reason: Reason,
    targets: z.array(z.looseObject({ target: z.string(), action: z.string(), serving: VersionId, note: z.string().optional() })),
    failures: z.array(z.looseObject({ target: z.string(), error: z.string() })).optional(),
  }),
  // A touched target the rollback could not put back yet (its region out, a full disk): retried
  // until it lands, the release still rolling_back; then it landed (src/deploy/owed.ts).
  "release.restore.pending": z.looseObject({ versionId: VersionId, reason: Reason, retryInMs: z.number() }),
  "release.restore.completed": z.looseObject({ versionId: VersionId, attempts: z.number().int(), pendingMs: z.number() }),
  "rollback.started": z.looseObject({
    by: z.string().nullable(),
    to: z.string().nullable(),
    resolved: z.string(),
    targets: z.array(z.looseObject({ name: z.string(), accountId: z.string(), versionId: z.string() })),
    skipped: z.array(z.looseObject({ name: z.string(), why: z.string() })),
  }),
  "rollback.completed": RollbackEnd,
  "rollback.failed": RollbackEnd,
  "health.changed": z.looseObject({
    from: z.enum(HEALTH_STATUSES),
    to: z.enum(HEALTH_STATUSES),
    versionId: VersionId,
    latencyMs: z.number().nullable(),
    detail: z.string(),
  }),
  "config.published": z.looseObject({
    version: z.number().int(),
    hash: z.string(),
    by: z.string(),
    rollbackOf: z.number().int().nullable(),
    targets: z.array(z.looseObject({ target: z.string(), written: z.boolean(), poke: z.string() })),
  }),
  // The latest version written again on the daemon's start to targets a publish left behind (cut
  // off by a kill, or a write that failed): same version and config, no new one (sync/service.ts).
  "config.resumed": z.looseObject({
    version: z.number().int(),
    hash: z.string(),
    targets: z.array(z.looseObject({ target: z.string(), written: z.boolean(), poke: z.string(), from: z.number().int().nullable() })),
  }),
  "config.applied": z.looseObject({ version: z.number().int(), isolate: z.string(), versionId: VersionId }),
  "config.rejected": z.looseObject({
    reason: z.string(),
    version: z.number().int().optional(),
    at: z.string(),
    isolate: z.string(),
    applied: z.number().int().nullable(),
  }),
  "config.write_failed": z.looseObject({ version: z.number().int(), error: z.string() }),
  // Drift (src/deploy/drift/checker.ts), on transitions only: a drift begins or changes, it is
  // gone, a revert put the desired versions back, a revert could not be made.
  "drift.detected": z.looseObject({
    kinds: z.array(z.enum(DRIFT_KINDS)),
    reason: Reason,
    versionId: VersionId,
    desired: Split,
    observed: Split,
    differences: z.array(z.record(z.string(), z.unknown())),
    policy: z.string(),
    desiredFrom: z.string(),
    since: z.string().nullable(),
  }),
  "drift.resolved": z.looseObject({
    kinds: z.array(z.string()),
    reason: Reason,
    versionId: VersionId,
    reverted: z.boolean(),
    since: z.string().nullable(),
  }),
  "drift.reverted": z.looseObject({ reason: Reason, versionId: VersionId, to: z.string(), from: Split, desired: Split }),
  "drift.revert.failed": z.looseObject({ reason: Reason, desired: Split }),
} as const;

export type EventType = keyof typeof EVENT_PAYLOADS;
export const EVENT_TYPES = Object.keys(EVENT_PAYLOADS) as [EventType, ...EventType[]];
export type EventPayload<T extends EventType> = z.output<(typeof EVENT_PAYLOADS)[T]>;

/** One stored event of one type: where it happened, and its typed payload. */
export type EventOf<T extends EventType> = {
  id: number;
  tenant: string;
  type: T;
  release_id: string | null;
  worker: string | null;
  target: string | null;
  data: EventPayload<T>;
  at: string;
};
/** Any stored event, discriminated by `type`. */
export type StoredEvent = { [T in EventType]: EventOf<T> }[EventType];

const envelope = {
  id: z.number().int(),
  tenant: z.string(),
  release_id: z.string().nullable(),
  worker: z.string().nullable(),
  target: z.string().nullable(),
  at: z.string(),
};
const eventSchema = <T extends EventType>(type: T) => z.object({ ...envelope, type: z.literal(type), data: EVENT_PAYLOADS[type] });

/** A stored event as the API sends it, its payload typed by its type. */
export const EventSchema = z.discriminatedUnion(
  "type",
  EVENT_TYPES.map((t) => eventSchema(t)) as unknown as [
    ReturnType<typeof eventSchema<EventType>>,
    ...Array<ReturnType<typeof eventSchema<EventType>>>,
  ],
) as unknown as z.ZodType<StoredEvent>;

/**
 * An event of any type, its payload unchecked: how clients read the stream, so that a daemon newer
 * than the client (a new type, a changed payload) does not stop `cbo events`. Narrow with eventOf().
 */
export const AnyEventSchema = z.object({ ...envelope, type: z.string(), data: z.record(z.string(), z.unknown()).default({}) });
export type AnyEvent = z.output<typeof AnyEventSchema>;

/** The event as its type's payload schema reads it, or undefined when it is another type or its payload does not fit. */
export function eventOf<T extends EventType>(e: AnyEvent, type: T): EventOf<T> | undefined {
  if (e.type !== type) return undefined;
  const data = EVENT_PAYLOADS[type].safeParse(e.data);
  return data.success ? ({ ...e, type, data: data.data } as EventOf<T>) : undefined;
}

/** A new event, as the store appends it: its payload typed by its type. */
export type NewEvent = {
  [T in EventType]: { tenant?: string; type: T; release_id?: string; worker?: string; target?: string; data: EventPayload<T> };
}[EventType];

/** GET /v1/events. */
export const EventsQuerySchema = z.object({
  after: z.coerce.number().int().min(0).optional().describe("Only events with a larger id (default 0: from the start)"),
  release: z.string().min(1).max(100).optional().describe("Only this release's events"),
  limit: z.coerce.number().int().min(1).max(10_000).optional().describe("At most this many per page (default 1000)"),
  order: z.enum(["asc", "desc"]).optional().describe("asc (default): oldest first; desc: newest first (the last N events)"),
  ...CursorQueryShape,
});
/**
 * The event stream's subprotocol (what the daemon answers), and the prefix of the offered one that
 * carries a token: `Sec-WebSocket-Protocol: cbo.v1, cbo.token.<token>`. Never a token in the URL.
 */
export const STREAM_PROTOCOL = "cbo.v1";
export const TOKEN_PROTOCOL_PREFIX = "cbo.token.";

/** WS /v1/events/stream: replays from `after`, then live. */
/** GET /v1/events: in `order` (oldest first by default). */
export const EventPageSchema = pageOf(EventSchema);
export const AnyEventPageSchema = pageOf(AnyEventSchema);

export const StreamQuerySchema = z.object({
  after: EventsQuerySchema.shape.after,
  release: EventsQuerySchema.shape.release,
});
