// Ships redacted log lines to the configured sink, in batches, in order.
//
// States: idle --(a line)--> filling --(batch_lines reached, or flush_ms since the first line)-->
//   sending --2xx--> (more queued? sending : idle)
//           --429, 5xx, no answer--> waiting (jittered backoff from 500 ms to 30 s, or retry-after)
//                                    --> sending the same batch again
//           --other 4xx--> the batch is refused for good: dropped (counted), next batch
// The queue holds at most queue_lines: while the sink is down the oldest lines are dropped and
// counted, so memory stays bounded whatever the fleet logs. Headers come from the vault at each
// send (a rotated sink key takes effect at once); their values are never logged.
import { backoffDelay } from "../kit/backoff.ts";
import type { LogLine, LogShipFormat } from "../contract/index.ts";
import { jsonlBody, otlpBody } from "./otlp.ts";
import { postBody, type PostResult } from "./post.ts";
import { sinkLabel } from "./sink-label.ts";
import type { Logger } from "../telemetry/index.ts";

export type ShipperOptions = {
  url: string;
  format: LogShipFormat;
  /** The request headers (secret values): read when a batch is sent; throwing holds the batch back. */
  headers: () => Record<string, string>;
  batchLines: number;
  flushMs: number;
  queueLines: number;
  tenant: string;
  backoff?: { baseMs: number; maxMs: number };
  timeoutMs?: number;
  log?: Logger;
  /** For tests: the HTTP exchange. */
  post?: (url: string, body: string, headers: Record<string, string>, timeoutMs: number) => Promise<PostResult>;
};

export type ShipperStats = {
  queued: number;
  shipped: number;
  dropped: number;
  failedAttempts: number;
  lastError: string | null;
  lastShippedAt: string | null;
};

export { sinkLabel } from "./sink-label.ts";

export function createShipper(opts: ShipperOptions) {
  const post = opts.post ?? postBody;
  const backoff = opts.backoff ?? { baseMs: 500, maxMs: 30_000 };
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const label = sinkLabel(opts.url);
  const contentType = opts.format === "otlp" ? "application/json" : "application/x-ndjson";
  let queue: LogLine[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let sending = false;
  let attempt = 0;
  /** The timer is a retry's wait, not a batch filling up: a full batch does not cut it short. */
  let backingOff = false;
  let closed = false;
  /** Lines dropped from the head while a batch was in flight: that many fewer to remove after it. */
  let droppedDuringSend = 0;
  const stats: ShipperStats = { queued: 0, shipped: 0, dropped: 0, failedAttempts: 0, lastError: null, lastShippedAt: null };

  const schedule = (ms: number, retry = false) => {
    if (timer || closed) return;
    backingOff = retry;
    timer = setTimeout(() => {
      timer = undefined;
      backingOff = false;
      void send();
    }, ms);
    timer.unref?.();
  };

  function fail(why: string): void {
    stats.failedAttempts++;
    if (stats.lastError !== why) opts.log?.warn(`fleet logs: shipping to ${label} failed: ${why}; retrying`);
    stats.lastError = why;
  }

  async function send(): Promise<void> {
    if (sending || queue.length === 0) return;
    sending = true;
    droppedDuringSend = 0;
    const batch = queue.slice(0, opts.batchLines);
    let outcome: "sent" | "retry" | "refused" = "retry";
    let waitMs: number | undefined;
    try {
      const headers = { ...opts.headers(), "content-type": contentType };
      const body = opts.format === "otlp" ? otlpBody(batch, { tenant: opts.tenant }) : jsonlBody(batch);
      const res = await post(opts.url, body, headers, timeoutMs);
      if (res.status >= 200 && res.status < 300) outcome = "sent";
      else if (res.status === 429 || res.status >= 500) {
        fail(`HTTP ${res.status}`);
        waitMs = res.retryAfterMs;
      } else {
        outcome = "refused";
        fail(`HTTP ${res.status}: the sink refused a batch of ${batch.length} lines (dropped)`);
      }
    } catch (e) {
      fail(e instanceof Error ? e.message : String(e));
    }
    sending = false;
    if (outcome === "retry") {
      const delay = Math.max(waitMs ?? 0, 100 + backoffDelay(attempt++, backoff));
      stats.queued = queue.length;
      schedule(Math.min(delay, backoff.maxMs), true);
      return;
    }
    attempt = 0;
    const done = Math.max(0, batch.length - droppedDuringSend);
    queue = queue.slice(done);
    if (outcome === "sent") {
      stats.shipped += batch.length;
      stats.lastShippedAt = new Date().toISOString();
      if (stats.lastError !== null) opts.log?.info(`fleet logs: shipping to ${label} works again`);
      stats.lastError = null;
    } else stats.dropped += batch.length;
    stats.queued = queue.length;
    if (queue.length >= opts.batchLines) void send();
    else if (queue.length > 0) schedule(opts.flushMs);
  }

  return {
    push(line: LogLine): void {
      if (closed) return;
      queue.push(line);
      if (queue.length > opts.queueLines) {
        const over = queue.length - opts.queueLines;
        queue = queue.slice(over);
        stats.dropped += over;
        if (sending) droppedDuringSend += over;
      }
      stats.queued = queue.length;
      if (queue.length >= opts.batchLines && !backingOff) {
        if (timer) clearTimeout(timer), (timer = undefined);
        void send();
      } else schedule(opts.flushMs);
    },
    stats: (): ShipperStats => ({ ...stats }),
    /** Sends what is queued now (one try per batch, within `deadlineMs`), then stops. */
    async close(deadlineMs = 2_000): Promise<void> {
      if (timer) clearTimeout(timer);
      timer = undefined;
      const until = Date.now() + deadlineMs;
      while (queue.length > 0 && Date.now() < until) {
        if (sending) {
          await new Promise((r) => setTimeout(r, 20));
          continue;
        }
        const before = stats.shipped + stats.dropped;
        await send();
        if (timer) clearTimeout(timer), (timer = undefined);
        if (stats.shipped + stats.dropped === before) break;
      }
      closed = true;
    },
  };
}
export type Shipper = ReturnType<typeof createShipper>;
