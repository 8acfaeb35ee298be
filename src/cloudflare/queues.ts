// Queues and their Worker consumers (CLOUDFLARE-API-FLEET §3). The API addresses a queue by its
// id; a name is found with `GET /queues?name=<name>` (exact match), as wrangler finds it. The
// consumer body is wrangler deploy's (§3.2): `type: "worker"`, the dead-letter queue, the script,
// and the settings with the batch timeout in milliseconds; keys not configured are not sent.
import * as z from "zod";
import type { QueueConsumer as ConsumerConfig } from "../config/source/model.ts";
import { type ApiContext, seg } from "./context.ts";
import { QueueConsumerSchema, type QueueConsumer, QueueSchema, type Queue } from "./schemas-data.ts";

export type QueueSettingsInput = {
  /** Seconds (0..86400) before a sent message can be delivered. */
  deliveryDelay?: number;
  /** Seconds (60..1209600) a message is kept. */
  messageRetentionPeriod?: number;
};

/** A Worker consumer as the API takes it (POST/PUT …/consumers). */
export type WorkerConsumerBody = {
  type: "worker";
  dead_letter_queue?: string;
  script_name: string;
  settings: {
    batch_size?: number;
    max_retries?: number;
    max_wait_time_ms?: number;
    max_concurrency?: number | null;
    retry_delay?: number;
  };
};

/**
 * What Cloudflare gives a consumer setting the body leaves out. A consumer write is a PUT of the
 * whole body, so a setting removed from the file goes back to this (as it does under wrangler
 * deploy), and a live value compares against the file's value or this default.
 */
export const CONSUMER_SETTING_DEFAULTS: Required<WorkerConsumerBody["settings"]> = {
  batch_size: 10,
  max_retries: 3,
  max_wait_time_ms: 5000,
  max_concurrency: null,
  retry_delay: 0,
};

/**
 * wrangler deploy's consumer body for `script` from a `[[queues.consumers]]` entry:
 * max_batch_timeout (seconds) becomes max_wait_time_ms; visibility_timeout_ms is not sent.
 */
export function workerConsumerBody(script: string, c: ConsumerConfig): WorkerConsumerBody {
  const settings: WorkerConsumerBody["settings"] = {};
  if (c.maxBatchSize !== undefined) settings.batch_size = c.maxBatchSize;
  if (c.maxRetries !== undefined) settings.max_retries = c.maxRetries;
  if (c.maxBatchTimeout !== undefined) settings.max_wait_time_ms = 1000 * c.maxBatchTimeout;
  if (c.maxConcurrency !== undefined) settings.max_concurrency = c.maxConcurrency;
  if (c.retryDelay !== undefined) settings.retry_delay = c.retryDelay;
  return {
    type: "worker",
    ...(c.deadLetterQueue === undefined ? {} : { dead_letter_queue: c.deadLetterQueue.name }),
    script_name: script,
    settings,
  };
}

export function createQueuesApi(ctx: ApiContext) {
  const base = async () => `/accounts/${seg(await ctx.accountId())}/queues`;
  const consumers = async (queueId: string) => `${await base()}/${seg(queueId)}/consumers`;

  const api = {
    /** Every queue (paged to the empty page); `name` filters on the exact name. */
    async listQueues(opts: { name?: string } = {}): Promise<Queue[]> {
      return ctx.list(await base(), QueueSchema, { paging: "pages", query: { name: opts.name }, endpoint: "queues.list" });
    },

    /** The queue of that name, or null. */
    async getQueueByName(name: string): Promise<Queue | null> {
      const page = await ctx.json("GET", await base(), z.array(QueueSchema), { endpoint: "queues.list", query: { page: 1, name } });
      return page.find((q) => q.queue_name === name) ?? null;
    },

    async getQueue(queueId: string): Promise<Queue> {
      return ctx.json("GET", `${await base()}/${seg(queueId)}`, QueueSchema, { endpoint: "queues.get" });
    },

    /** A taken name is refused (the local edge: 409, code 11009); bad settings with 100128. */
    async createQueue(name: string, opts: { settings?: QueueSettingsInput } = {}): Promise<Queue> {
      const s = opts.settings;
      const settings =
        s === undefined
          ? undefined
          : {
              ...(s.deliveryDelay === undefined ? {} : { delivery_delay: s.deliveryDelay }),
              ...(s.messageRetentionPeriod === undefined ? {} : { message_retention_period: s.messageRetentionPeriod }),
            };
      return ctx.json("POST", await base(), QueueSchema, {
        endpoint: "queues.create",
        body: { queue_name: name, ...(settings === undefined ? {} : { settings }) },
      });
    },

    async deleteQueue(queueId: string): Promise<void> {
      await ctx.json("DELETE", `${await base()}/${seg(queueId)}`, z.unknown(), { endpoint: "queues.delete" });
    },

    async listQueueConsumers(queueId: string): Promise<QueueConsumer[]> {
      return ctx.list(await consumers(queueId), QueueConsumerSchema, { paging: "single", endpoint: "queues.consumers.list" });
    },

    /** Invalid settings are refused with 100127. */
    async createQueueConsumer(queueId: string, body: WorkerConsumerBody): Promise<QueueConsumer> {
      return ctx.json("POST", await consumers(queueId), QueueConsumerSchema, { endpoint: "queues.consumers.create", body });
    },

    async updateQueueConsumer(queueId: string, consumerId: string, body: WorkerConsumerBody): Promise<QueueConsumer> {
      return ctx.json("PUT", `${await consumers(queueId)}/${seg(consumerId)}`, QueueConsumerSchema, {
        endpoint: "queues.consumers.update",
        body,
      });
    },

    async deleteQueueConsumer(queueId: string, consumerId: string): Promise<void> {
      await ctx.json("DELETE", `${await consumers(queueId)}/${seg(consumerId)}`, z.unknown(), { endpoint: "queues.consumers.delete" });
    },

    /**
     * wrangler deploy's consumer step for one queue: update the consumer that is already this
     * Worker's (by `script` or `service`), else create one. Consumers of other Workers are left.
     */
    async upsertWorkerConsumer(queue: Queue, body: WorkerConsumerBody): Promise<{ consumer: QueueConsumer; created: boolean }> {
      const mine = (queue.consumers ?? []).find(
        (c) => c.script === body.script_name || c.script_name === body.script_name || c.service === body.script_name,
      );
      if (mine) return { consumer: await api.updateQueueConsumer(queue.queue_id, mine.consumer_id, body), created: false };
      return { consumer: await api.createQueueConsumer(queue.queue_id, body), created: true };
    },
  };
  return api;
}
