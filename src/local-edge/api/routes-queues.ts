// /accounts/:acct/queues/*: queues, their settings and consumers, as `wrangler queues …` and the
// triggers phase of `wrangler deploy` drive them (CLOUDFLARE-API-FLEET.md §3). Bodies arrive
// without a Content-Type and are parsed as JSON anyway.
import { Hono, type Context } from "hono";
import { hexId } from "../../kit/ids.ts";
import {
  DEFAULT_QUEUE_SETTINGS,
  type ConsumerSettings,
  type Queue,
  type QueueConsumer,
  type QueueSettings,
  type QueueStore,
} from "../state/queues.ts";
import type { ScriptStore } from "../state/scripts.ts";
import { CF_CODES, CfApiError, ok, pageInfo } from "./envelope.ts";
import { readJson } from "./json-body.ts";
import type { EdgeEnv } from "./routes-workers.ts";

const NAME = /^[A-Za-z0-9_-]{1,63}$/;
const invalidSettings = (m: string) => new CfApiError(400, CF_CODES.QUEUE_INVALID_SETTINGS, `Invalid queue settings: ${m}`);
const invalidConsumer = (m: string) => new CfApiError(400, CF_CODES.QUEUE_INVALID_CONSUMER, `Invalid consumer settings: ${m}`);

function intIn(v: unknown, min: number, max: number): boolean {
  return typeof v === "number" && Number.isInteger(v) && v >= min && v <= max;
}

function settingsFrom(raw: unknown, base: QueueSettings): QueueSettings {
  if (raw === undefined || raw === null) return base;
  if (typeof raw !== "object") throw invalidSettings("`settings` must be an object.");
  const s = raw as Record<string, unknown>;
  const out = { ...base };
  if (s.delivery_delay !== undefined) {
    if (!intIn(s.delivery_delay, 0, 86_400)) throw invalidSettings("delivery_delay must be a whole number of seconds from 0 to 86400.");
    out.delivery_delay = s.delivery_delay as number;
  }
  if (s.message_retention_period !== undefined) {
    if (!intIn(s.message_retention_period, 60, 1_209_600))
      throw invalidSettings("message_retention_period must be from 60 to 1209600 seconds.");
    out.message_retention_period = s.message_retention_period as number;
  }
  if (s.delivery_paused !== undefined) {
    if (typeof s.delivery_paused !== "boolean") throw invalidSettings("delivery_paused must be true or false.");
    out.delivery_paused = s.delivery_paused;
  }
  return out;
}

function consumerSettingsFrom(raw: unknown): ConsumerSettings {
  const s = (raw ?? {}) as Record<string, unknown>;
  if (typeof s !== "object") throw invalidConsumer("`settings` must be an object.");
  const out: ConsumerSettings = { batch_size: 10, max_retries: 3, max_wait_time_ms: 5000, max_concurrency: null, retry_delay: 0 };
  const take = (key: keyof ConsumerSettings, min: number, max: number, what: string) => {
    const v = s[key];
    if (v === undefined) return;
    if (!intIn(v, min, max)) throw invalidConsumer(`${key} must be ${what}.`);
    (out as Record<string, unknown>)[key] = v;
  };
  take("batch_size", 1, 100, "from 1 to 100");
  take("max_retries", 0, 100, "from 0 to 100");
  take("max_wait_time_ms", 0, 60_000, "from 0 to 60000 ms");
  take("retry_delay", 0, 43_200, "from 0 to 43200 seconds");
  take("visibility_timeout_ms", 0, 43_200_000, "from 0 to 43200000 ms");
  if (s.max_concurrency !== undefined && s.max_concurrency !== null) {
    if (!intIn(s.max_concurrency, 1, 250)) throw invalidConsumer("max_concurrency must be from 1 to 250, or null.");
    out.max_concurrency = s.max_concurrency as number;
  }
  return out;
}

export function queueRoutes(deps: { queues: QueueStore; scripts: ScriptStore; changed: () => void }) {
  const { queues, scripts } = deps;
  const app = new Hono<EdgeEnv>();

  const queueOf = (c: Context<EdgeEnv>): Queue => {
    const q = queues.getQueue(c.var.account.id, c.req.param("queue") ?? "");
    if (!q) throw new CfApiError(404, CF_CODES.QUEUE_NOT_FOUND, `Queue ${c.req.param("queue")} does not exist.`);
    return q;
  };
  const consumerJson = (q: Queue, k: QueueConsumer) => ({
    consumer_id: k.id,
    type: k.type,
    queue_name: q.name,
    created_on: k.created_on,
    ...(k.script ? { script: k.script, script_name: k.script } : {}),
    ...(k.dead_letter_queue ? { dead_letter_queue: k.dead_letter_queue } : {}),
    settings: k.settings,
  });
  /** Producers: Workers whose latest version binds the queue (what Cloudflare lists). */
  const producers = (q: Queue) =>
    scripts
      .list(q.account_id)
      .filter((s) => scripts.latestVersion(s.account_id, s.name)?.bindings.some((b) => b.type === "queue" && b.queue_name === q.name))
      .map((s) => ({ type: "worker", script: s.name }));
  const queueJson = (q: Queue) => {
    const p = producers(q);
    const consumers = queues.consumers(q.id).map((k) => consumerJson(q, k));
    return {
      queue_id: q.id,
      queue_name: q.name,
      created_on: q.created_on,
      modified_on: q.modified_on,
      producers: p,
      producers_total_count: p.length,
      consumers,
      consumers_total_count: consumers.length,
      settings: q.settings,
    };
  };

  app.post("/queues", async (c) => {
    const body = (await readJson(c)) as { queue_name?: unknown; settings?: unknown };
    if (typeof body.queue_name !== "string" || !NAME.test(body.queue_name)) {
      throw invalidSettings("queue_name must be 1 to 63 letters, digits, dashes or underscores.");
    }
    if (queues.byName(c.var.account.id, body.queue_name))
      throw new CfApiError(409, CF_CODES.QUEUE_EXISTS, `A queue named ${body.queue_name} already exists.`);
    const t = new Date().toISOString();
    const q: Queue = {
      id: hexId(),
      account_id: c.var.account.id,
      name: body.queue_name,
      created_on: t,
      modified_on: t,
      settings: settingsFrom(body.settings, DEFAULT_QUEUE_SETTINGS),
    };
    queues.insertQueue(q);
    return ok(c, queueJson(q));
  });
  app.get("/queues", (c) => {
    const names = c.req.queries("name") ?? [];
    let all = queues.list(c.var.account.id);
    if (names.length > 0) all = all.filter((q) => names.includes(q.name));
    const page = Math.max(1, Math.floor(Number(c.req.query("page") ?? 1)) || 1);
    const perPage = Math.min(1000, Math.max(1, Math.floor(Number(c.req.query("per_page") ?? 100)) || 100));
    const items = all.slice((page - 1) * perPage, page * perPage);
    return ok(c, items.map(queueJson), pageInfo(page, perPage, items.length, all.length));
  });
  app.get("/queues/:queue", (c) => ok(c, queueJson(queueOf(c))));
  const update = async (c: Context<EdgeEnv>) => {
    const q = queueOf(c);
    const body = (await readJson(c)) as { queue_name?: unknown; settings?: unknown };
    const next: Queue = { ...q, settings: settingsFrom(body.settings, q.settings), modified_on: new Date().toISOString() };
    if (body.queue_name !== undefined && body.queue_name !== q.name) {
      if (typeof body.queue_name !== "string" || !NAME.test(body.queue_name))
        throw invalidSettings("queue_name must be 1 to 63 letters, digits, dashes or underscores.");
      if (queues.byName(q.account_id, body.queue_name))
        throw new CfApiError(409, CF_CODES.QUEUE_EXISTS, `A queue named ${body.queue_name} already exists.`);
      next.name = body.queue_name;
    }
    queues.updateQueue(next);
    deps.changed();
    return ok(c, queueJson(next));
  };
  app.patch("/queues/:queue", update);
  app.put("/queues/:queue", update);
  app.delete("/queues/:queue", (c) => {
    queues.deleteQueue(queueOf(c).id);
    return ok(c, null);
  });
  app.post("/queues/:queue/purge", (c) => {
    queues.purge(queueOf(c).id);
    return ok(c, { started_at: new Date().toISOString(), complete: true });
  });

  // --- consumers ---
  function consumerFrom(q: Queue, raw: unknown, existing?: QueueConsumer): QueueConsumer {
    const b = (raw ?? {}) as { type?: unknown; script_name?: unknown; script?: unknown; dead_letter_queue?: unknown; settings?: unknown };
    const type = b.type ?? "worker";
    if (type !== "worker" && type !== "http_pull") throw invalidConsumer('type must be "worker" or "http_pull".');
    const script = b.script_name ?? b.script;
    if (type === "worker" && (typeof script !== "string" || script === "")) throw invalidConsumer("a worker consumer needs `script_name`.");
    if (b.dead_letter_queue !== undefined && (typeof b.dead_letter_queue !== "string" || !NAME.test(b.dead_letter_queue))) {
      throw invalidConsumer("dead_letter_queue must be a queue name.");
    }
    if (b.dead_letter_queue === q.name) throw invalidConsumer("a queue cannot be its own dead-letter queue.");
    return {
      id: existing?.id ?? hexId(),
      queue_id: q.id,
      type,
      script: type === "worker" ? (script as string) : null,
      dead_letter_queue: (b.dead_letter_queue as string | undefined) ?? null,
      settings: consumerSettingsFrom(b.settings),
      created_on: existing?.created_on ?? new Date().toISOString(),
    };
  }
  app.get("/queues/:queue/consumers", (c) => {
    const q = queueOf(c);
    return ok(
      c,
      queues.consumers(q.id).map((k) => consumerJson(q, k)),
    );
  });
  app.post("/queues/:queue/consumers", async (c) => {
    const q = queueOf(c);
    const k = consumerFrom(q, await readJson(c));
    if (queues.consumers(q.id).length > 0) {
      throw new CfApiError(
        400,
        CF_CODES.QUEUE_CONSUMER_EXISTS,
        `workers.api.error.consumer_exists: queue ${q.name} already has a consumer; a queue has one consumer (update it, or delete it first).`,
      );
    }
    queues.insertConsumer(k);
    deps.changed();
    return ok(c, consumerJson(q, k));
  });
  const consumerOf = (c: Context<EdgeEnv>, q: Queue) => {
    const k = queues.consumers(q.id).find((x) => x.id === c.req.param("consumer"));
    if (!k)
      throw new CfApiError(
        404,
        CF_CODES.QUEUE_CONSUMER_NOT_FOUND,
        `Consumer ${c.req.param("consumer")} does not exist on queue ${q.name}.`,
      );
    return k;
  };
  app.put("/queues/:queue/consumers/:consumer", async (c) => {
    const q = queueOf(c);
    const k = consumerFrom(q, await readJson(c), consumerOf(c, q));
    queues.updateConsumer(k);
    deps.changed();
    return ok(c, consumerJson(q, k));
  });
  app.delete("/queues/:queue/consumers/:consumer", (c) => {
    const q = queueOf(c);
    queues.deleteConsumer(consumerOf(c, q).id);
    return ok(c, null);
  });
  return app;
}
