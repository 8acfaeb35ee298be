// Delivers queued messages to consumer Workers, in batches, as Cloudflare Queues does.
//
// A pass looks at every Worker consumer whose Worker is live and whose queue is not paused:
//   - messages older than the queue's retention period are dropped;
//   - while fewer than max_concurrency batches are in flight, it takes the deliverable messages
//     (visible, not leased) in order; a batch goes out when it is full (batch_size) or when its
//     oldest message has waited max_wait_time_ms, else the pass notes when that will be.
// A delivered batch is leased (attempts + 1) and sent to the Worker's queue() handler through its
// region's router. The answer decides each message: explicit ack -> gone; explicit retry, retryAll,
// or a handler that threw -> visible again after its delay (message delay, else the consumer's
// retry_delay), unless it has used max_retries retries, in which case it moves to the dead-letter
// queue (or is dropped without one); otherwise (handler returned) -> acked. Then another pass.
// Passes are coalesced: poke() any number of times, one pass runs; a timer wakes the next one
// when a delayed message becomes visible or a partial batch times out.
import type { QueueConsumer, QueueMessage, QueueStore, Queue } from "../state/queues.ts";
import type { EventRequest } from "../workers/events.ts";
import type { EventOutcome } from "./region-runtime.ts";

const LEASE_MS = 15 * 60_000;
/** How long a consumer is left alone after its region could not take a batch (outage, undeployed). */
const UNREACHABLE_BACKOFF_MS = 1000;

type QueueResult = {
  outcome: string;
  ackAll: boolean;
  retryBatch: { retry: boolean; delaySeconds?: number };
  explicitAcks: string[];
  retryMessages: Array<{ msgId: string; delaySeconds?: number }>;
};

export type QueueDispatcherDeps = {
  queues: QueueStore;
  /** Whether the account has a live deployment of the script. */
  isLive: (accountId: string, script: string) => boolean;
  invoke: (accountId: string, request: EventRequest) => Promise<EventOutcome>;
  log?: (line: string) => void;
  now?: () => number;
};

export function createQueueDispatcher(deps: QueueDispatcherDeps) {
  const { queues } = deps;
  const now = deps.now ?? Date.now;
  const inFlight = new Map<string, number>();
  const backoffUntil = new Map<string, number>();
  const running = new Set<Promise<void>>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timerAt = Infinity;
  let scheduled = false;
  let stopped = false;

  function poke(): void {
    if (stopped || scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      pass();
    });
  }

  function wakeAt(t: number): void {
    if (stopped || t >= timerAt) return;
    if (timer) clearTimeout(timer);
    timerAt = t;
    timer = setTimeout(
      () => {
        timer = undefined;
        timerAt = Infinity;
        pass();
      },
      Math.max(0, t - now()),
    );
    timer.unref?.();
  }

  function pass(): void {
    if (stopped) return;
    const t = now();
    for (const { queue, consumer } of queues.workerConsumers()) {
      if (queue.settings.delivery_paused || !deps.isLive(queue.account_id, consumer.script!)) continue;
      const resume = backoffUntil.get(consumer.id) ?? 0;
      if (resume > t) {
        wakeAt(resume);
        continue;
      }
      queues.expire(queue.id, t - queue.settings.message_retention_period * 1000);
      const max = consumer.settings.max_concurrency ?? 1;
      while ((inFlight.get(consumer.id) ?? 0) < max) {
        const ready = queues.ready(queue.id, t, consumer.settings.batch_size);
        if (ready.length === 0) break;
        const due = ready[0]!.visible_ms + consumer.settings.max_wait_time_ms;
        if (ready.length < consumer.settings.batch_size && t < due) {
          wakeAt(due);
          break;
        }
        deliver(queue, consumer, ready);
      }
      const next = queues.nextVisible(queue.id);
      if (next !== undefined && next > t) wakeAt(next);
    }
  }

  function deliver(queue: Queue, consumer: QueueConsumer, batch: QueueMessage[]): void {
    queues.lease(
      batch.map((m) => m.id),
      now() + LEASE_MS,
    );
    inFlight.set(consumer.id, (inFlight.get(consumer.id) ?? 0) + 1);
    const request: EventRequest = {
      type: "queue",
      script: consumer.script!,
      queue: queue.name,
      messages: batch.map((m) => ({
        id: m.id,
        timestamp: m.created_ms,
        attempts: m.attempts + 1,
        contentType: m.content_type,
        base64: Buffer.from(m.body).toString("base64"),
      })),
    };
    const p = deps
      .invoke(queue.account_id, request)
      .catch((e: unknown): EventOutcome => ({ ok: false, deployed: true, error: e instanceof Error ? e.message : String(e) }))
      .then((outcome) => settle(queue, consumer, batch, outcome))
      .catch((e: unknown) => deps.log?.(`local-edge: queue ${queue.name}: ${e instanceof Error ? e.message : String(e)}`))
      .finally(() => {
        inFlight.set(consumer.id, (inFlight.get(consumer.id) ?? 1) - 1);
        running.delete(p);
        poke();
      });
    running.add(p);
  }

  function settle(queue: Queue, consumer: QueueConsumer, batch: QueueMessage[], outcome: EventOutcome): void {
    if (!outcome.deployed || outcome.unavailable) {
      queues.release(batch.map((m) => m.id));
      backoffUntil.set(consumer.id, now() + UNREACHABLE_BACKOFF_MS);
      return;
    }
    if (!outcome.ok) deps.log?.(`local-edge: queue ${queue.name}: consumer ${consumer.script} failed: ${outcome.error}`);
    const r = (outcome.ok ? outcome.result : undefined) as QueueResult | undefined;
    const acks = new Set(r?.explicitAcks ?? []);
    const retries = new Map((r?.retryMessages ?? []).map((x) => [x.msgId, x.delaySeconds]));
    const failed = r?.outcome !== "ok";
    const t = now();
    const toAck: string[] = [];
    for (const m of batch) {
      let retry: { delaySeconds?: number } | undefined;
      if (acks.has(m.id)) retry = undefined;
      else if (retries.has(m.id)) retry = { delaySeconds: retries.get(m.id) };
      else if (r?.retryBatch?.retry) retry = { delaySeconds: r.retryBatch.delaySeconds };
      else if (r?.ackAll || !failed) retry = undefined;
      else retry = {};
      if (!retry) {
        toAck.push(m.id);
        continue;
      }
      const attempts = m.attempts + 1;
      if (attempts - 1 >= consumer.settings.max_retries) {
        const dlq = consumer.dead_letter_queue ? queues.byName(queue.account_id, consumer.dead_letter_queue) : undefined;
        if (dlq) queues.move(m.id, dlq.id, t);
        else {
          toAck.push(m.id);
          deps.log?.(`local-edge: queue ${queue.name}: message ${m.id} dropped after ${attempts} attempts`);
        }
        continue;
      }
      const delay = retry.delaySeconds ?? consumer.settings.retry_delay ?? 0;
      queues.retry(m.id, t + delay * 1000);
    }
    queues.ack(toAck);
  }

  return {
    poke,
    /** Stops delivering and waits for batches in flight to settle. */
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearTimeout(timer);
      await Promise.allSettled([...running]);
    },
  };
}
export type QueueDispatcher = ReturnType<typeof createQueueDispatcher>;
