// Events the edge starts itself, delivered by the router to a Worker's live version: a queue
// batch (runtime/queue-dispatcher.ts) and a cron's scheduled event (`cbo edge trigger`, the cron
// scheduler). They use the `queue()` and `scheduled()` methods that workerd gives the Fetcher of a
// loaded Worker under the `service_binding_extra_handlers` flag, so the Worker's handler runs
// exactly as for a real event (MessageBatch with ack/retry, ScheduledController).
import { decodeV8 } from "./queue-codec.ts";

export type WireMessage = { id: string; timestamp: number; attempts: number; contentType: string; base64: string };

export type EventRequest =
  | { type: "scheduled"; script: string; cron: string; scheduledTime: number }
  | { type: "queue"; script: string; queue: string; messages: WireMessage[] };

/** The loaded Worker's default entrypoint with the extra handlers. */
export type EventTarget = {
  queue(queue: string, messages: Array<{ id: string; timestamp: Date; attempts: number; body: unknown }>): Promise<unknown>;
  scheduled(opts: { scheduledTime: Date; cron: string }): Promise<unknown>;
};

function bytesOf(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** A stored message body as the consumer sees it (workerd's deserialize() per content type). */
export function decodeBody(contentType: string, b64: string): unknown {
  const bytes = bytesOf(b64);
  if (contentType === "bytes") return bytes;
  const text = new TextDecoder().decode(bytes);
  if (contentType === "text") return text;
  if (contentType === "json") return JSON.parse(text);
  return decodeV8(text);
}

export async function handleEvent(req: EventRequest, targetFor: (script: string) => Promise<EventTarget | undefined>): Promise<Response> {
  const target = await targetFor(req.script);
  if (!target) return Response.json({ ok: false, deployed: false, error: `No Worker named "${req.script}" is deployed in this region.` });
  try {
    if (req.type === "scheduled") {
      const result = await target.scheduled({ scheduledTime: new Date(req.scheduledTime), cron: req.cron });
      return Response.json({ ok: true, deployed: true, result });
    }
    const messages = req.messages.map((m) => ({
      id: m.id,
      timestamp: new Date(m.timestamp),
      attempts: m.attempts,
      body: decodeBody(m.contentType, m.base64),
    }));
    const result = await target.queue(req.queue, messages);
    return Response.json({ ok: true, deployed: true, result });
  } catch (e) {
    // The Worker could not be loaded, or the call broke down: the batch counts as failed.
    return Response.json({ ok: false, deployed: true, error: e instanceof Error ? e.message : String(e) });
  }
}
