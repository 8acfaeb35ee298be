// The queue producer a Worker sees (env.QUEUE): send() and sendBatch() encode bodies in the
// producer's isolate, with workerd's content-type rules (queue.c++): text needs a string, bytes an
// ArrayBufferView, json anything JSON.stringify takes, v8 anything structured clone takes; the
// default is json from compatibility date 2024-03-18 (queues_json_messages), v8 before. The
// encoded messages go to the router's QueueBinding entrypoint (the `raw` stub).
import { encodeV8 } from "../queue-codec.ts";

type ContentType = "text" | "bytes" | "json" | "v8";
export type EncodedMessage = { contentType: ContentType; body: string | Uint8Array; delaySeconds?: number };
type Metrics = { backlogCount: number; backlogBytes: number; oldestMessageTimestamp?: Date };

/** The router's QueueBinding entrypoint, as an RPC stub. */
export type QueueRawStub = {
  send(messages: EncodedMessage[]): Promise<{ backlogCount: number; backlogBytes: number; oldestMessageTimestamp?: number }>;
  metrics(): Promise<{ backlogCount: number; backlogBytes: number; oldestMessageTimestamp?: number }>;
};

// Cloudflare's Queues limits as Miniflare's queue broker keeps them (it cites
// developers.cloudflare.com/queues/platform/limits, where 1 KB is 1000 bytes): a message 128 KB,
// a batch 100 messages and 288 KB (the page says 256 KB of messages; the broker's 288 KB is what
// a batch may weigh, unconfirmed at Cloudflare). The broker answers 413 with these words, and
// workerd throws "Queue send failed: <status text>" (queue.c++).
const MAX_MESSAGE_BYTES = 128_000;
const MAX_BATCH_MESSAGES = 100;
const MAX_BATCH_BYTES = 288_000;

function encode(
  op: "send" | "sendBatch",
  body: unknown,
  contentType: string | undefined,
  jsonDefault: boolean,
  delaySeconds: number | undefined,
): EncodedMessage {
  if (body === undefined) throw new TypeError("Message body cannot be undefined");
  const type = (contentType ?? (jsonDefault ? "json" : "v8")).toLowerCase();
  let encoded: string | Uint8Array;
  if (type === "text") {
    if (typeof body !== "string") throw new TypeError(`Content Type "text" requires a value of type string, but received: ${typeof body}`);
    encoded = body;
  } else if (type === "bytes") {
    if (!ArrayBuffer.isView(body))
      throw new TypeError(`Content Type "bytes" requires a value of type ArrayBufferView, but received: ${typeof body}`);
    encoded = new Uint8Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength));
  } else if (type === "json") {
    const text = JSON.stringify(body);
    if (text === undefined) throw new TypeError("Message body could not be serialized to JSON.");
    encoded = text;
  } else if (type === "v8") {
    encoded = encodeV8(body);
  } else {
    throw new TypeError(`Unsupported queue message content type: ${contentType}`);
  }
  const size = typeof encoded === "string" ? new TextEncoder().encode(encoded).byteLength : encoded.byteLength;
  if (size > MAX_MESSAGE_BYTES)
    throw new Error(
      `Queue ${op} failed: ${op === "send" ? "message length of" : "message in batch has length"} ${size} bytes ${
        op === "send" ? "exceeds limit of" : "which exceeds single message size limit of"
      } ${MAX_MESSAGE_BYTES}`,
    );
  if (delaySeconds !== undefined && (!Number.isInteger(delaySeconds) || delaySeconds < 0 || delaySeconds > 86_400)) {
    throw new TypeError("delaySeconds must be a whole number of seconds from 0 to 86400.");
  }
  return { contentType: type as ContentType, body: encoded, ...(delaySeconds !== undefined ? { delaySeconds } : {}) };
}

function metrics(m: { backlogCount: number; backlogBytes: number; oldestMessageTimestamp?: number }): { metadata: { metrics: Metrics } } {
  return {
    metadata: {
      metrics: {
        backlogCount: m.backlogCount,
        backlogBytes: m.backlogBytes,
        ...(m.oldestMessageTimestamp !== undefined ? { oldestMessageTimestamp: new Date(m.oldestMessageTimestamp) } : {}),
      },
    },
  };
}

export class Queue {
  #raw: QueueRawStub;
  #jsonDefault: boolean;
  constructor(raw: QueueRawStub, jsonDefault: boolean) {
    this.#raw = raw;
    this.#jsonDefault = jsonDefault;
  }

  async send(body: unknown, options?: { contentType?: string; delaySeconds?: number }) {
    return metrics(await this.#raw.send([encode("send", body, options?.contentType, this.#jsonDefault, options?.delaySeconds)]));
  }

  async sendBatch(messages: Iterable<{ body: unknown; contentType?: string; delaySeconds?: number }>, options?: { delaySeconds?: number }) {
    const all = [...messages];
    // workerd's own words for an empty batch; then the broker's checks, in its order.
    if (all.length === 0) throw new TypeError("sendBatch() requires at least one message");
    if (all.length > MAX_BATCH_MESSAGES)
      throw new Error(`Queue sendBatch failed: batch message count of ${all.length} exceeds limit of ${MAX_BATCH_MESSAGES}`);
    const list = all.map((m) => encode("sendBatch", m.body, m.contentType, this.#jsonDefault, m.delaySeconds ?? options?.delaySeconds));
    const bytes = list.reduce(
      (s, m) => s + (typeof m.body === "string" ? new TextEncoder().encode(m.body).byteLength : m.body.byteLength),
      0,
    );
    if (bytes > MAX_BATCH_BYTES)
      throw new Error(`Queue sendBatch failed: batch size of ${bytes} bytes exceeds limit of ${MAX_BATCH_BYTES}`);
    return metrics(await this.#raw.send(list));
  }

  async metrics(): Promise<Metrics> {
    return metrics(await this.#raw.metrics()).metadata.metrics;
  }
}
