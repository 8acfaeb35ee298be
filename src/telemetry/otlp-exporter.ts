// OTLP/HTTP JSON trace export, loaded only when an endpoint is configured (telemetry.ts imports it
// dynamically): an idle daemon without one never pays for it. In-house rather than
// @opentelemetry/*: the SDK and its exporter weigh several MiB of code for what is here a queue,
// a JSON document and a POST over node:http(s) (no fetch: it would load undici in the daemon).
//
//   export(span) ── queue (at most maxQueue; beyond it the span is dropped and counted)
//   every delayMs, or once maxBatch spans wait ── POST <endpoint> one batch ── 2xx: sent
//                                                                        └─ else: dropped, counted, logged once
//   flush()/close() send what waits.
import http from "node:http";
import https from "node:https";
import type { Logger } from "./logger.ts";
import type { Redactor } from "./redact.ts";
import type { FinishedSpan, SpanAttributes, SpanExporter } from "./span.ts";

export type OtlpExporterOptions = {
  url: string;
  headers: Record<string, string>;
  serviceName: string;
  resource: SpanAttributes;
  delayMs: number;
  maxBatch: number;
  maxQueue: number;
  timeoutMs: number;
  log: Logger;
  redactor?: Redactor | undefined;
  counted?: { exported(n: number): void; dropped(n: number): void };
};

const KIND = { internal: 1, server: 2, client: 3 } as const;

export function createOtlpExporter(o: OtlpExporterOptions): SpanExporter {
  const url = new URL(o.url);
  const queue: FinishedSpan[] = [];
  let timer: NodeJS.Timeout | undefined;
  let sending: Promise<void> = Promise.resolve();
  let failing = false;

  function schedule(): void {
    if (timer || queue.length === 0) return;
    timer = setTimeout(() => {
      timer = undefined;
      void send();
    }, o.delayMs);
    timer.unref();
  }

  function send(): Promise<void> {
    sending = sending.then(async () => {
      while (queue.length > 0) {
        const batch = queue.splice(0, o.maxBatch);
        const ok = await post(JSON.stringify(document(batch, o)));
        if (ok) o.counted?.exported(batch.length);
        else o.counted?.dropped(batch.length);
      }
    });
    return sending;
  }

  function post(body: string): Promise<boolean> {
    return new Promise((resolve) => {
      const req = (url.protocol === "https:" ? https : http).request(
        url,
        {
          method: "POST",
          headers: { ...o.headers, "content-type": "application/json", "content-length": Buffer.byteLength(body) },
          timeout: o.timeoutMs,
        },
        (res) => {
          res.resume();
          res.on("end", () => {
            const ok = (res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300;
            report(ok, ok ? "" : `HTTP ${res.statusCode}`);
            resolve(ok);
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error(`no answer within ${o.timeoutMs} ms`)));
      req.on("error", (e: NodeJS.ErrnoException) => {
        report(false, e.code ?? e.message);
        resolve(false);
      });
      req.end(body);
    });
  }

  // One line when export starts failing and one when it works again, not one per batch.
  function report(ok: boolean, why: string): void {
    if (!ok && !failing) o.log.warn(`traces: export to ${url.origin}${url.pathname} failed (${why}); spans are dropped until it answers`);
    if (ok && failing) o.log.info(`traces: export to ${url.origin}${url.pathname} works again`);
    failing = !ok;
  }

  return {
    export(span) {
      if (queue.length >= o.maxQueue) {
        o.counted?.dropped(1);
        return;
      }
      queue.push(span);
      if (queue.length >= o.maxBatch) void send();
      else schedule();
    },
    flush() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      return send();
    },
    async close() {
      await this.flush();
    },
  };
}

/** The OTLP JSON document of one batch: daemon spans under the daemon's resource, edge spans under the agents'. */
function document(batch: FinishedSpan[], o: OtlpExporterOptions): unknown {
  const groups = new Map<string, FinishedSpan[]>();
  for (const s of batch) {
    const k = s.origin ?? "daemon";
    groups.set(k, [...(groups.get(k) ?? []), s]);
  }
  const clean = (v: string) => (o.redactor ? o.redactor.redact(v) : v);
  return {
    resourceSpans: [...groups].map(([origin, spans]) => ({
      resource: {
        attributes: attributes({
          ...o.resource,
          "service.name": origin === "edge" ? `${o.serviceName}-edge-agent` : o.serviceName,
        }),
      },
      scopeSpans: [
        {
          scope: { name: "clawdbot-orchestrator" },
          spans: spans.map((s) => ({
            traceId: s.traceId,
            spanId: s.spanId,
            ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
            name: s.name,
            kind: KIND[s.kind],
            startTimeUnixNano: nanos(s.startMs),
            endTimeUnixNano: nanos(s.endMs),
            attributes: attributes(s.attributes, clean),
            status: s.error === undefined ? { code: 1 } : { code: 2, message: clean(s.error) },
          })),
        },
      ],
    })),
  };
}

function attributes(a: SpanAttributes, clean: (v: string) => string = (v) => v) {
  const out = [];
  for (const [key, v] of Object.entries(a)) {
    if (v === undefined) continue;
    if (typeof v === "string") out.push({ key, value: { stringValue: clean(v) } });
    else if (typeof v === "boolean") out.push({ key, value: { boolValue: v } });
    else if (Number.isInteger(v)) out.push({ key, value: { intValue: String(v) } });
    else out.push({ key, value: { doubleValue: v } });
  }
  return out;
}

const nanos = (ms: number) => (BigInt(Math.round(ms * 1000)) * 1000n).toString();
