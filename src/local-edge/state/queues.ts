// Queues per account, their consumers, and the messages waiting in them. Messages are rows, so a
// restart of the edge loses none: a message leased to a consumer when the edge stopped becomes
// visible again (at-least-once, as Cloudflare Queues).
import type { EdgeDb } from "./db.ts";

export type QueueSettings = { delivery_delay: number; delivery_paused: boolean; message_retention_period: number };

export type Queue = { id: string; account_id: string; name: string; created_on: string; modified_on: string; settings: QueueSettings };

export type ConsumerSettings = {
  batch_size: number;
  max_retries: number;
  max_wait_time_ms: number;
  max_concurrency: number | null;
  retry_delay: number;
  visibility_timeout_ms?: number;
};

export type QueueConsumer = {
  id: string;
  queue_id: string;
  type: "worker" | "http_pull";
  script: string | null;
  dead_letter_queue: string | null;
  settings: ConsumerSettings;
  created_on: string;
};

export type QueueMessage = {
  seq: number;
  id: string;
  queue_id: string;
  body: Uint8Array;
  content_type: string;
  /** Deliveries so far. */
  attempts: number;
  created_ms: number;
  visible_ms: number;
};

export const DEFAULT_QUEUE_SETTINGS: QueueSettings = { delivery_delay: 0, delivery_paused: false, message_retention_period: 345_600 };

type Row = Record<string, unknown>;
const toQueue = (r: Row): Queue => ({
  id: r.id as string,
  account_id: r.account_id as string,
  name: r.name as string,
  created_on: r.created_on as string,
  modified_on: r.modified_on as string,
  settings: JSON.parse(r.settings as string),
});
const toConsumer = (r: Row): QueueConsumer => ({
  id: r.id as string,
  queue_id: r.queue_id as string,
  type: r.type as QueueConsumer["type"],
  script: (r.script as string | null) ?? null,
  dead_letter_queue: (r.dead_letter_queue as string | null) ?? null,
  settings: JSON.parse(r.settings as string),
  created_on: r.created_on as string,
});
const toMessage = (r: Row): QueueMessage => ({
  seq: Number(r.seq),
  id: r.id as string,
  queue_id: r.queue_id as string,
  body: r.body as Uint8Array,
  content_type: r.content_type as string,
  attempts: Number(r.attempts),
  created_ms: Number(r.created_ms),
  visible_ms: Number(r.visible_ms),
});

export function createQueueStore(db: EdgeDb) {
  // Leases do not survive a restart: whatever was in flight is delivered again.
  db.exec("UPDATE queue_messages SET leased_until = NULL WHERE leased_until IS NOT NULL");
  const readyStmt = db.prepare(
    "SELECT * FROM queue_messages WHERE queue_id = ? AND visible_ms <= ? AND (leased_until IS NULL OR leased_until <= ?) ORDER BY visible_ms, seq LIMIT ?",
  );
  return {
    insertQueue(q: Queue): void {
      db.prepare("INSERT INTO queues (id, account_id, name, created_on, modified_on, settings) VALUES (?, ?, ?, ?, ?, ?)").run(
        q.id,
        q.account_id,
        q.name,
        q.created_on,
        q.modified_on,
        JSON.stringify(q.settings),
      );
    },
    updateQueue(q: Queue): void {
      db.prepare("UPDATE queues SET name = ?, modified_on = ?, settings = ? WHERE id = ?").run(
        q.name,
        q.modified_on,
        JSON.stringify(q.settings),
        q.id,
      );
    },
    getQueue(accountId: string, id: string): Queue | undefined {
      const r = db.prepare("SELECT * FROM queues WHERE account_id = ? AND id = ?").get(accountId, id) as Row | undefined;
      return r && toQueue(r);
    },
    byName(accountId: string, name: string): Queue | undefined {
      const r = db.prepare("SELECT * FROM queues WHERE account_id = ? AND name = ?").get(accountId, name) as Row | undefined;
      return r && toQueue(r);
    },
    list(accountId: string): Queue[] {
      return (db.prepare("SELECT * FROM queues WHERE account_id = ? ORDER BY created_on, id").all(accountId) as Row[]).map(toQueue);
    },
    deleteQueue(id: string): void {
      db.prepare("DELETE FROM queue_messages WHERE queue_id = ?").run(id);
      db.prepare("DELETE FROM queue_consumers WHERE queue_id = ?").run(id);
      db.prepare("DELETE FROM queues WHERE id = ?").run(id);
    },

    consumers(queueId: string): QueueConsumer[] {
      return (db.prepare("SELECT * FROM queue_consumers WHERE queue_id = ? ORDER BY created_on, id").all(queueId) as Row[]).map(toConsumer);
    },
    insertConsumer(c: QueueConsumer): void {
      db.prepare(
        "INSERT INTO queue_consumers (id, queue_id, type, script, dead_letter_queue, settings, created_on) VALUES (?, ?, ?, ?, ?, ?, ?)",
      ).run(c.id, c.queue_id, c.type, c.script, c.dead_letter_queue, JSON.stringify(c.settings), c.created_on);
    },
    updateConsumer(c: QueueConsumer): void {
      db.prepare("UPDATE queue_consumers SET type = ?, script = ?, dead_letter_queue = ?, settings = ? WHERE id = ?").run(
        c.type,
        c.script,
        c.dead_letter_queue,
        JSON.stringify(c.settings),
        c.id,
      );
    },
    deleteConsumer(id: string): void {
      db.prepare("DELETE FROM queue_consumers WHERE id = ?").run(id);
    },
    /** Every Worker consumer with its queue, for the delivery loop. */
    workerConsumers(): Array<{ queue: Queue; consumer: QueueConsumer }> {
      const rows = db
        .prepare(
          `SELECT q.id AS q_id, q.account_id, q.name, q.created_on AS q_created_on, q.modified_on, q.settings AS q_settings, c.*
         FROM queue_consumers c JOIN queues q ON q.id = c.queue_id WHERE c.type = 'worker' AND c.script IS NOT NULL`,
        )
        .all() as Row[];
      return rows.map((r) => ({
        queue: toQueue({
          id: r.q_id,
          account_id: r.account_id,
          name: r.name,
          created_on: r.q_created_on,
          modified_on: r.modified_on,
          settings: r.q_settings,
        }),
        consumer: toConsumer(r),
      }));
    },

    enqueue(messages: Array<Omit<QueueMessage, "seq" | "attempts">>): void {
      const ins = db.prepare(
        "INSERT INTO queue_messages (id, queue_id, body, content_type, attempts, created_ms, visible_ms) VALUES (?, ?, ?, ?, 0, ?, ?)",
      );
      for (const m of messages) ins.run(m.id, m.queue_id, m.body, m.content_type, m.created_ms, m.visible_ms);
    },
    ready(queueId: string, nowMs: number, limit: number): QueueMessage[] {
      return (readyStmt.all(queueId, nowMs, nowMs, limit) as Row[]).map(toMessage);
    },
    /** When the next message of the queue becomes deliverable (visible and not leased), if any. */
    nextVisible(queueId: string): number | undefined {
      const r = db
        .prepare("SELECT MIN(MAX(visible_ms, COALESCE(leased_until, 0))) AS t FROM queue_messages WHERE queue_id = ?")
        .get(queueId) as { t: number | null };
      return r.t === null ? undefined : Number(r.t);
    },
    /** One message and, while it is leased, until when. */
    message(id: string): (QueueMessage & { leased_until: number | null }) | undefined {
      const r = db.prepare("SELECT * FROM queue_messages WHERE id = ?").get(id) as Row | undefined;
      return r ? { ...toMessage(r), leased_until: r.leased_until === null ? null : Number(r.leased_until) } : undefined;
    },
    lease(ids: string[], untilMs: number): void {
      const st = db.prepare("UPDATE queue_messages SET leased_until = ?, attempts = attempts + 1 WHERE id = ?");
      for (const id of ids) st.run(untilMs, id);
    },
    /** Gives leased messages back without counting the delivery (the consumer was not reachable). */
    release(ids: string[]): void {
      const st = db.prepare("UPDATE queue_messages SET leased_until = NULL, attempts = MAX(attempts - 1, 0) WHERE id = ?");
      for (const id of ids) st.run(id);
    },
    ack(ids: string[]): void {
      const st = db.prepare("DELETE FROM queue_messages WHERE id = ?");
      for (const id of ids) st.run(id);
    },
    retry(id: string, visibleMs: number): void {
      db.prepare("UPDATE queue_messages SET leased_until = NULL, visible_ms = ? WHERE id = ?").run(visibleMs, id);
    },
    /** Moves a message to another queue (the dead-letter queue) as a fresh message. */
    move(id: string, toQueueId: string, nowMs: number): void {
      db.prepare("UPDATE queue_messages SET queue_id = ?, attempts = 0, leased_until = NULL, visible_ms = ? WHERE id = ?").run(
        toQueueId,
        nowMs,
        id,
      );
    },
    purge(queueId: string): void {
      db.prepare("DELETE FROM queue_messages WHERE queue_id = ?").run(queueId);
    },
    /** Drops messages older than the queue's retention period. */
    expire(queueId: string, createdBeforeMs: number): void {
      db.prepare("DELETE FROM queue_messages WHERE queue_id = ? AND created_ms < ? AND leased_until IS NULL").run(queueId, createdBeforeMs);
    },
    backlog(queueId: string): { count: number; bytes: number; oldestMs: number | null } {
      const r = db
        .prepare("SELECT count(*) AS n, COALESCE(SUM(LENGTH(body)), 0) AS b, MIN(created_ms) AS o FROM queue_messages WHERE queue_id = ?")
        .get(queueId) as Row;
      return { count: Number(r.n), bytes: Number(r.b), oldestMs: r.o === null ? null : Number(r.o) };
    },
  };
}
export type QueueStore = ReturnType<typeof createQueueStore>;
