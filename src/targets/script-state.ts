// A Worker's script-level settings in one target: what lives outside its versions, so a rollback
// of code does not bring it back by itself (CLOUDFLARE-API-FLEET §8.1):
//
//   key             read                          written (only when it differs)
//   crons           GET  …/schedules              PUT  …/schedules (the whole set; [] clears)
//   routes          GET  …/routes                 PUT  …/routes (the whole set)
//   customDomains   GET  …/workers/domains?service POST-less: PUT …/domains/records (override_scope)
//   workersDev      GET  …/subdomain              POST …/subdomain {enabled, previews_enabled}
//   previewUrls     (same read)                   (same write)
//   logpush, observability, tailConsumers, serviceTags
//                   GET  …/script-settings        PATCH …/script-settings (the keys managed)
//   consumers       GET  …/queues?name= per queue PUT/POST …/consumers of this script (or DELETE)
//
// A state holds only the keys the orchestrator manages for that Worker: a key the source leaves
// unset is never read, compared or written, so what the dashboard set stays (as `wrangler versions
// deploy` leaves unset settings alone). `serviceTags` are the `cf:service=`/`cf:environment=` tags
// wrangler deploy sets on a Worker of a file with environments (the dashboard groups the
// environments of one service by them); writing them keeps every other tag. Reads and writes each return how many requests they made,
// because a release's plan promises its request count.
import type { Route, WorkerSource } from "../config/source/model.ts";
import {
  CONSUMER_SETTING_DEFAULTS,
  workerConsumerBody,
  type Queue,
  type TailConsumer,
  type WorkerConsumerBody,
} from "../cloudflare/index.ts";
import { CboError } from "../kit/errors.ts";
import type { TargetRuntime } from "./types.ts";

export type ScriptState = {
  crons?: string[];
  routes?: Array<{ pattern: string; zoneId?: string; zoneName?: string }>;
  customDomains?: Array<{ hostname: string; zoneId?: string; zoneName?: string }>;
  workersDev?: boolean;
  previewUrls?: boolean;
  logpush?: boolean;
  observability?: Record<string, unknown>;
  tailConsumers?: TailConsumer[];
  /** wrangler's service and environment tags (`cf:service=<top-level name>`, `cf:environment=<env>`). */
  serviceTags?: string[];
  /** Per consumed queue, this script's consumer (body as the API takes it), or null for none. */
  consumers?: Array<{ queue: string; consumer: WorkerConsumerBody | null }>;
};
export type SettingKey = keyof ScriptState;

/** What a release changed in a target's settings: the keys, and what they were before (null for a new script). */
export type SettingsChange = { keys: SettingKey[]; before: ScriptState | null };
export const SETTING_KEYS: readonly SettingKey[] = [
  "crons",
  "routes",
  "customDomains",
  "workersDev",
  "previewUrls",
  "logpush",
  "observability",
  "tailConsumers",
  "serviceTags",
  "consumers",
];

const SERVICE_TAG = /^cf:(service|environment)=/;
/** The same GET and PATCH of …/script-settings serve all of these. */
const SCRIPT_SETTINGS_KEYS: readonly SettingKey[] = ["logpush", "observability", "tailConsumers", "serviceTags"];
const usesScriptSettings = (keys: SettingKey[]) => keys.some((k) => SCRIPT_SETTINGS_KEYS.includes(k));

/**
 * The tags wrangler deploy gives a Worker (deploy-helpers applyServiceAndEnvironmentTags): only
 * when the file defines environments, `cf:service=<top-level name>`, and `cf:environment=<env>`
 * when one is released.
 */
export function serviceTagsOf(source: WorkerSource): string[] | undefined {
  const o = source.origin;
  if (o.kind !== "wrangler" || o.definedEnvironments.length === 0 || !o.topLevelName) return undefined;
  return [`cf:service=${o.topLevelName}`, ...(o.env ? [`cf:environment=${o.env}`] : [])];
}

/** The settings a source manages, as they should be in a target (`queueName` maps logical names to the target's). */
export function desiredState(script: string, source: WorkerSource): ScriptState {
  const s = source.settings;
  const routes = source.routes.filter((r) => !r.customDomain);
  const domains = source.routes.filter((r) => r.customDomain);
  return {
    ...(source.triggers.crons === undefined ? {} : { crons: [...source.triggers.crons] }),
    ...(routes.length > 0 ? { routes: routes.map(routeOf) } : {}),
    ...(domains.length > 0 ? { customDomains: domains.map((d) => ({ hostname: d.pattern, ...zoneOf(d) })) } : {}),
    ...(s.workersDev === undefined ? {} : { workersDev: s.workersDev }),
    ...(s.previewUrls === undefined ? {} : { previewUrls: s.previewUrls }),
    ...(s.logpush === undefined ? {} : { logpush: s.logpush }),
    ...(s.observability === undefined ? {} : { observability: s.observability as Record<string, unknown> }),
    ...(s.tailConsumers === undefined ? {} : { tailConsumers: s.tailConsumers }),
    ...(serviceTagsOf(source) === undefined ? {} : { serviceTags: serviceTagsOf(source) }),
    ...(source.queueConsumers.length > 0
      ? { consumers: source.queueConsumers.map((c) => ({ queue: c.queue.name, consumer: workerConsumerBody(script, c) })) }
      : {}),
  };
}

const routeOf = (r: Route) => ({ pattern: r.pattern, ...zoneOf(r) });
const zoneOf = (r: Route) => ({ ...(r.zoneId ? { zoneId: r.zoneId } : {}), ...(r.zoneName ? { zoneName: r.zoneName } : {}) });

export const managedKeys = (s: ScriptState): SettingKey[] => SETTING_KEYS.filter((k) => s[k] !== undefined);

/** Reads the keys `like` manages from the target (a missing script reads as nothing set). */
export async function readState(runtime: TargetRuntime, script: string, like: ScriptState): Promise<{ state: ScriptState; reads: number }> {
  const c = runtime.client;
  const keys = managedKeys(like);
  const out: ScriptState = {};
  let reads = 0;
  const tasks: Array<Promise<void>> = [];
  const task = (f: () => Promise<void>) => {
    reads += 1;
    tasks.push(f());
  };
  if (keys.includes("crons")) task(async () => void (out.crons = (await c.getSchedules(script)).map((s) => s.cron)));
  if (keys.includes("routes"))
    task(async () => {
      out.routes = (await c.getScriptRoutes(script)).map((r) => ({ pattern: r.pattern }));
    });
  if (keys.includes("customDomains"))
    task(async () => {
      out.customDomains = (await c.listCustomDomains({ service: script })).map((d) => ({ hostname: d.hostname }));
    });
  if (keys.includes("workersDev") || keys.includes("previewUrls"))
    task(async () => {
      const sub = await c.getScriptSubdomain(script);
      if (keys.includes("workersDev")) out.workersDev = sub.enabled;
      if (keys.includes("previewUrls")) out.previewUrls = sub.previews_enabled ?? false;
    });
  if (usesScriptSettings(keys))
    task(async () => {
      const s = await c.getScriptSettings(script);
      if (keys.includes("serviceTags")) out.serviceTags = (s.tags ?? []).filter((t) => SERVICE_TAG.test(t));
      if (keys.includes("logpush")) out.logpush = s.logpush ?? false;
      if (keys.includes("observability")) out.observability = (s.observability as Record<string, unknown> | null | undefined) ?? {};
      if (keys.includes("tailConsumers"))
        out.tailConsumers = (s.tail_consumers ?? []).map((t) => ({
          service: t.service,
          ...(t.environment ? { environment: t.environment } : {}),
        }));
    });
  if (like.consumers) {
    const consumers: NonNullable<ScriptState["consumers"]> = like.consumers.map((c) => ({ queue: c.queue, consumer: null }));
    out.consumers = consumers;
    like.consumers.forEach((want, i) =>
      task(async () => {
        const q = await c.getQueueByName(want.queue);
        consumers[i] = { queue: want.queue, consumer: q ? consumerOf(q, script) : null };
      }),
    );
  }
  await Promise.all(tasks);
  return { state: out, reads };
}

/** This script's consumer of a queue, in the body shape the API takes, or null. */
function consumerOf(q: Queue, script: string): WorkerConsumerBody | null {
  const mine = (q.consumers ?? []).find((c) => c.script === script || c.script_name === script || c.service === script);
  if (!mine) return null;
  const s = (mine.settings ?? {}) as Record<string, unknown>;
  const settings: WorkerConsumerBody["settings"] = {};
  for (const k of ["batch_size", "max_retries", "max_wait_time_ms", "max_concurrency", "retry_delay"] as const)
    if (s[k] !== undefined && s[k] !== null) (settings as Record<string, unknown>)[k] = s[k];
  return {
    type: "worker",
    ...(mine.dead_letter_queue ? { dead_letter_queue: mine.dead_letter_queue } : {}),
    script_name: script,
    settings,
  };
}

/** Does `current` already hold every key `desired` sets (objects compared on the desired keys only)? */
export function satisfies(current: unknown, desired: unknown): boolean {
  if (Array.isArray(desired)) {
    if (!Array.isArray(current) || current.length !== desired.length) return false;
    return desired.every((d, i) => satisfies(current[i], d));
  }
  if (typeof desired === "object" && desired !== null) {
    if (typeof current !== "object" || current === null) return false;
    return Object.entries(desired).every(([k, v]) => v === undefined || satisfies((current as Record<string, unknown>)[k], v));
  }
  return current === desired;
}

/** The keys of `desired` that `current` does not satisfy (all of them when there is no current state: a new script). */
export function changedKeys(current: ScriptState | null, desired: ScriptState): SettingKey[] {
  return managedKeys(desired).filter((k) => {
    if (current === null) return true;
    if (k === "crons" || k === "routes" || k === "customDomains") return !sameSet(current[k], desired[k]);
    if (k === "serviceTags") return JSON.stringify(current.serviceTags ?? []) !== JSON.stringify(desired.serviceTags);
    if (k === "consumers")
      return (desired.consumers ?? []).some((d, i) => !sameConsumer(current.consumers?.[i]?.consumer ?? null, d.consumer));
    return !satisfies(current[k], desired[k]);
  });
}

/** Routes and custom domains compare by pattern or hostname, in any order (the zone is how to find it, not what it is). */
function sameSet(a: unknown[] | undefined, b: unknown[] | undefined): boolean {
  const key = (x: unknown) => {
    if (typeof x === "object" && x !== null && "pattern" in x) return `p:${String((x as { pattern: unknown }).pattern)}`;
    if (typeof x === "object" && x !== null && "hostname" in x) return `h:${String((x as { hostname: unknown }).hostname)}`;
    return JSON.stringify(x);
  };
  const as = new Set((a ?? []).map(key));
  const bs = new Set((b ?? []).map(key));
  return as.size === bs.size && [...as].every((x) => bs.has(x));
}

/**
 * Settings compare with Cloudflare's defaults filled in on both sides: a setting the file leaves
 * out is not "anything", it is the default the write puts back (a removed max_retries: 0 is 3 again).
 */
function sameConsumer(current: WorkerConsumerBody | null, desired: WorkerConsumerBody | null): boolean {
  if (current === null || desired === null) return current === desired;
  const value = (s: WorkerConsumerBody["settings"], k: keyof WorkerConsumerBody["settings"]) => s[k] ?? CONSUMER_SETTING_DEFAULTS[k];
  return (
    (current.dead_letter_queue ?? null) === (desired.dead_letter_queue ?? null) &&
    (Object.keys(CONSUMER_SETTING_DEFAULTS) as Array<keyof WorkerConsumerBody["settings"]>).every(
      (k) => value(current.settings, k) === value(desired.settings, k),
    )
  );
}

/** How many requests reading `like`'s keys takes (readState). */
export function readCount(like: ScriptState): number {
  const keys = managedKeys(like);
  let n = 0;
  for (const k of ["crons", "routes", "customDomains"] as const) if (keys.includes(k)) n += 1;
  if (keys.includes("workersDev") || keys.includes("previewUrls")) n += 1;
  if (usesScriptSettings(keys)) n += 1;
  return n + (like.consumers?.length ?? 0);
}

/** How many requests writing `keys` takes. */
export function writeCount(state: ScriptState, keys: SettingKey[]): number {
  let n = 0;
  for (const k of ["crons", "routes", "customDomains"] as const) if (keys.includes(k)) n += 1;
  if (keys.includes("workersDev") || keys.includes("previewUrls")) n += state.workersDev === undefined ? 2 : 1;
  if (usesScriptSettings(keys)) n += 1;
  // Tags are one list: the other tags are read first, so that only wrangler's two are replaced.
  if (keys.includes("serviceTags")) n += 1;
  // A consumer write reads its queue first (for the queue id and the consumer's id).
  if (keys.includes("consumers")) n += 2 * (state.consumers ?? []).length;
  return n;
}

/**
 * Writes `keys` of `state` to the target (each idempotent: the same state written twice is the
 * same state). `consumers` writes every listed queue's consumer: upserted, or deleted when null.
 */
export async function writeState(runtime: TargetRuntime, script: string, state: ScriptState, keys: SettingKey[]): Promise<void> {
  const c = runtime.client;
  const has = (k: SettingKey) => keys.includes(k) && state[k] !== undefined;
  const writes: Array<Promise<unknown>> = [];
  if (has("crons")) writes.push(c.putSchedules(script, state.crons!));
  if (has("routes")) writes.push(c.putScriptRoutes(script, state.routes!));
  if (has("customDomains")) writes.push(c.putCustomDomains(script, state.customDomains!));
  if (has("workersDev") || has("previewUrls")) {
    // The POST needs `enabled`: a state managing only preview URLs keeps what the target has.
    const enabled = state.workersDev ?? (await c.getScriptSubdomain(script)).enabled;
    writes.push(
      c.setScriptSubdomain(script, { enabled, ...(state.previewUrls === undefined ? {} : { previewsEnabled: state.previewUrls }) }),
    );
  }
  if (has("logpush") || has("observability") || has("tailConsumers") || has("serviceTags")) {
    writes.push(
      (async () => {
        const others = has("serviceTags") ? ((await c.getScriptSettings(script)).tags ?? []).filter((t) => !SERVICE_TAG.test(t)) : [];
        await c.patchScriptSettings(script, {
          ...(has("logpush") ? { logpush: state.logpush! } : {}),
          ...(has("observability") ? { observability: state.observability! } : {}),
          ...(has("tailConsumers") ? { tail_consumers: state.tailConsumers! } : {}),
          ...(has("serviceTags") ? { tags: [...others, ...state.serviceTags!] } : {}),
        });
      })(),
    );
  }
  if (has("consumers")) {
    for (const { queue, consumer } of state.consumers!) {
      writes.push(
        (async () => {
          const q = await c.getQueueByName(queue);
          if (!q) {
            if (consumer === null) return;
            throw new CboError("ERR_CONFLICT", `Queue ${queue} does not exist in target ${runtime.name}, so its consumer cannot be set.`, {
              hint: "Release the Worker again: its release creates the queue first.",
            });
          }
          if (consumer) await c.upsertWorkerConsumer(q, consumer);
          else {
            const mine = (q.consumers ?? []).find((x) => x.script === script || x.script_name === script || x.service === script);
            if (mine) await c.deleteQueueConsumer(q.queue_id, mine.consumer_id);
          }
        })(),
      );
    }
  }
  await Promise.all(writes);
}
