// /accounts/:acct/queues/:queue/messages*: the HTTP side of Queues, as the cloudflare SDK's
// queues.messages.push / bulkPush / pull / ack call it. Producers push `json` (the default) or
// `text` bodies, the only types the HTTP API takes; they join the same table a Worker's
// producer binding writes, so a Worker consumer receives them too. A queue with an HTTP pull
// consumer is read by pull: each pull leases messages for visibility_timeout_ms and counts an
// attempt; ack deletes them, a retry makes them visible again after its delay; a message whose
// lease ran out is pulled again. A message past the consumer's max_retries goes to its dead-letter
// queue (or is dropped), as the Worker consumer's dispatcher does.
import { Hono, type Context } from "hono";
import { hexId } from "../../kit/ids.ts";
import type { Queue, QueueConsumer, QueueMessage, QueueStore } from "../state/queues.ts";
import { CF_CODES, CfApiError, ok } from "./envelope.ts";
import { parseJson, readJson } from "./json-body.ts";
import type { EdgeEnv } from "./routes-workers.ts";

// Cloudflare's limits (developers.cloudflare.com/queues/platform/limits), as the producer binding
// keeps them (workers/env-shim/queue.ts): 128 KB a message, 100 messages and 288 KB a batch.
const MAX_MESSAGE_BYTES = 128_000;
const MAX_BATCH_MESSAGES = 100;
const MAX_BATCH_BYTES = 288_000;
const MAX_PULL_BATCH = 100;
const DEFAULT_PULL_BATCH = 5;
const DEFAULT_VISIBILITY_MS = 30_000;
const MAX_VISIBILITY_MS = 43_200_000;
const MAX_DELAY_S = 86_400;

const invalid = (m: string, status = 400) => new CfApiError(status, CF_CODES.QUEUE_MESSAGE_INVALID, m);
const wholeIn = (v: unknown, min: number, max: number) => typeof v === "number" && Number.isInteger(v) && v >= min && v <= max;

/** A lease names the message and the moment its lease ends, so an ack after a newer pull is stale. */
const leaseId = (m: { id: string }, until: number) => Buffer.from(JSON.stringify([m.id, until])).toString("base64url");
function readLease(raw: unknown): { id: string; until: number } | undefined {
  if (typeof raw !== "string") return undefined;
  try {
    const [id, until] = JSON.parse(Buffer.from(raw, "base64url").toString("utf8")) as unknown[];
    return typeof id === "string" && typeof until === "number" ? { id, until } : undefined;
  } catch {
    return undefined;
  }
}

/** What pull hands out for a body: text as it was sent (JSON as its text), other types in base64. */
const bodyText = (m: QueueMessage) =>
  m.content_type === "json" || m.content_type === "text" ? new TextDecoder().decode(m.body) : Buffer.from(m.body).toString("base64");

export function queueMessageRoutes(deps: { queues: QueueStore; changed: () => void; now?: () => number }) {
  const { queues } = deps;
  const now = deps.now ?? Date.now;
  const app = new Hono<EdgeEnv>();

  const queueOf = (c: Context<EdgeEnv>): Queue => {
    const q = queues.getQueue(c.var.account.id, c.req.param("queue") ?? "");
    if (!q) throw new CfApiError(404, CF_CODES.QUEUE_NOT_FOUND, `Queue ${c.req.param("queue")} does not exist.`);
    return q;
  };
  const pullConsumerOf = (q: Queue): QueueConsumer => {
    const k = queues.consumers(q.id).find((x) => x.type === "http_pull");
    if (!k)
      throw new CfApiError(
        400,
        CF_CODES.QUEUE_NO_PULL_CONSUMER,
        `Queue ${q.name} has no HTTP pull consumer; add one (\`wrangler queues consumer http add ${q.name}\`) to pull from it.`,
      );
    return k;
  };
  const metrics = (q: Queue) => {
    const b = queues.backlog(q.id);
    return { metrics: { backlog_count: b.count, backlog_bytes: b.bytes, oldest_message_timestamp_ms: b.oldestMs ?? 0 } };
  };

  function encode(q: Queue, raw: unknown, batchDelay: unknown, where: string, t: number) {
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw invalid(`${where} must be an object with a \`body\`.`);
    const m = raw as { body?: unknown; content_type?: unknown; delay_seconds?: unknown };
    const type = m.content_type ?? "json";
    if (type !== "json" && type !== "text") throw invalid(`${where}.content_type must be "json" or "text" (got ${JSON.stringify(type)}).`);
    if (m.body === undefined) throw invalid(`${where}.body is required.`);
    if (type === "text" && typeof m.body !== "string") throw invalid(`${where}.body must be a string for content_type "text".`);
    const text = type === "text" ? (m.body as string) : JSON.stringify(m.body);
    const body = new TextEncoder().encode(text);
    if (body.byteLength > MAX_MESSAGE_BYTES)
      throw invalid(`${where}.body is ${body.byteLength} bytes; a message is at most ${MAX_MESSAGE_BYTES}.`, 413);
    const delay = m.delay_seconds ?? batchDelay ?? q.settings.delivery_delay;
    if (!wholeIn(delay, 0, MAX_DELAY_S)) throw invalid(`${where}.delay_seconds must be a whole number from 0 to ${MAX_DELAY_S}.`);
    return { id: hexId(16), queue_id: q.id, body, content_type: type, created_ms: t, visible_ms: t + (delay as number) * 1000 };
  }

  app.post("/queues/:queue/messages", async (c) => {
    const q = queueOf(c);
    queues.enqueue([encode(q, await readJson(c), undefined, "message", now())]);
    deps.changed();
    return ok(c, { metadata: metrics(q) });
  });
  app.post("/queues/:queue/messages/batch", async (c) => {
    const q = queueOf(c);
    const b = (await readJson(c)) as { messages?: unknown; delay_seconds?: unknown };
    if (!Array.isArray(b.messages) || b.messages.length === 0) throw invalid("`messages` must be a non-empty array.");
    if (b.messages.length > MAX_BATCH_MESSAGES)
      throw invalid(`A batch holds at most ${MAX_BATCH_MESSAGES} messages (got ${b.messages.length}).`, 413);
    const t = now();
    // Every message is checked before any is queued: a bad one refuses the whole batch.
    const messages = b.messages.map((m, i) => encode(q, m, b.delay_seconds, `messages[${i}]`, t));
    const bytes = messages.reduce((n, m) => n + m.body.byteLength, 0);
    if (bytes > MAX_BATCH_BYTES) throw invalid(`The batch's messages weigh ${bytes} bytes; a batch is at most ${MAX_BATCH_BYTES}.`, 413);
    queues.enqueue(messages);
    deps.changed();
    return ok(c, { metadata: metrics(q) });
  });

  /** Moves a message that used up its retries to the dead-letter queue, or drops it. */
  const retire = (q: Queue, k: QueueConsumer, id: string, t: number) => {
    const dlq = k.dead_letter_queue ? queues.byName(q.account_id, k.dead_letter_queue) : undefined;
    if (dlq) queues.move(id, dlq.id, t);
    else queues.ack([id]);
  };

  app.post("/queues/:queue/messages/pull", async (c) => {
    const q = queueOf(c);
    const k = pullConsumerOf(q);
    // Every field is optional, so an empty body is fine here.
    const text = await c.req.text();
    const raw = text.trim() === "" ? {} : parseJson(text, "Request body");
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw invalid("The body must be a JSON object.");
    const b = raw as { batch_size?: unknown; visibility_timeout_ms?: unknown };
    const size = b.batch_size ?? DEFAULT_PULL_BATCH;
    if (!wholeIn(size, 1, MAX_PULL_BATCH)) throw invalid(`batch_size must be a whole number from 1 to ${MAX_PULL_BATCH}.`);
    const visibility = b.visibility_timeout_ms ?? DEFAULT_VISIBILITY_MS;
    if (!wholeIn(visibility, 0, MAX_VISIBILITY_MS))
      throw invalid(`visibility_timeout_ms must be a whole number from 0 to ${MAX_VISIBILITY_MS}.`);
    const t = now();
    queues.expire(q.id, t - q.settings.message_retention_period * 1000);
    let batch: QueueMessage[] = [];
    // A message whose lease ran out after its last allowed attempt is retired, not pulled again.
    for (;;) {
      const ready = queues.ready(q.id, t, size as number);
      const spent = ready.filter((m) => m.attempts > k.settings.max_retries);
      for (const m of spent) retire(q, k, m.id, t);
      batch = ready.filter((m) => m.attempts <= k.settings.max_retries);
      if (spent.length === 0 || batch.length === size) break;
    }
    const until = t + (visibility as number);
    queues.lease(
      batch.map((m) => m.id),
      until,
    );
    return ok(c, {
      message_backlog_count: queues.backlog(q.id).count,
      messages: batch.map((m) => ({
        id: m.id,
        body: bodyText(m),
        attempts: m.attempts + 1,
        timestamp_ms: m.created_ms,
        lease_id: leaseId(m, until),
        metadata: { "CF-sourceMessageSource": "api", "CF-Content-Type": m.content_type },
      })),
      metadata: metrics(q),
    });
  });

  app.post("/queues/:queue/messages/ack", async (c) => {
    const q = queueOf(c);
    const k = pullConsumerOf(q);
    const b = (await readJson(c)) as { acks?: unknown; retries?: unknown };
    for (const key of ["acks", "retries"] as const) {
      if (b[key] !== undefined && !Array.isArray(b[key])) throw invalid(`\`${key}\` must be an array of { lease_id }.`);
    }
    const acks = (b.acks ?? []) as Array<{ lease_id?: unknown }>;
    const retries = (b.retries ?? []) as Array<{ lease_id?: unknown; delay_seconds?: unknown }>;
    for (const [i, r] of retries.entries()) {
      if (r?.delay_seconds !== undefined && !wholeIn(r.delay_seconds, 0, MAX_DELAY_S))
        throw invalid(`retries[${i}].delay_seconds must be a whole number from 0 to ${MAX_DELAY_S}.`);
    }
    const t = now();
    const warnings: Record<string, string> = {};
    // A lease is good while its message is still leased under it; otherwise the ack is a no-op.
    const held = (raw: unknown): QueueMessage | undefined => {
      const lease = readLease(raw);
      const m = lease ? queues.message(lease.id) : undefined;
      if (lease && m && m.queue_id === q.id && m.leased_until === lease.until && lease.until > t) return m;
      warnings[String(raw)] = "The lease is unknown or has expired; the message was not changed.";
      return undefined;
    };
    let ackCount = 0;
    for (const a of acks) {
      const m = held(a?.lease_id);
      if (!m) continue;
      queues.ack([m.id]);
      ackCount++;
    }
    let retryCount = 0;
    for (const r of retries) {
      const m = held(r?.lease_id);
      if (!m) continue;
      if (m.attempts > k.settings.max_retries) retire(q, k, m.id, t);
      else queues.retry(m.id, t + ((r.delay_seconds as number | undefined) ?? k.settings.retry_delay) * 1000);
      retryCount++;
    }
    return ok(c, { ackCount, retryCount, warnings });
  });
  return app;
}
