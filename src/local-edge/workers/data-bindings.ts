// Router side of the D1, R2 and queue bindings. For each such binding of a version the router
// puts an env shim descriptor into the Worker's env, holding a raw RPC stub (one of the
// entrypoints below, with the resource in its props); the shim turns it into the real binding
// object inside the Worker (env-shim/shim.ts). The entrypoints answer from the edge's own
// state through the CONTROL binding (runtime/control-data.ts), scoped to the region's account.
import { WorkerEntrypoint } from "cloudflare:workers";
import type { ShimDescriptor } from "./env-shim/shim.ts";
import type { EncodedMessage } from "./env-shim/queue.ts";
import type { R2Meta } from "./env-shim/r2.ts";
import { checkR2Key, checkR2ListLimit, checkR2Metadata } from "./r2-checks.ts";

type Env = { CONTROL: Fetcher };
type Binding = { type: string; name: string; [k: string]: unknown };
type Ctx = ExecutionContext & { exports: Record<string, (opts: { props: Record<string, unknown> }) => unknown> };
const propsOf = (ctx: unknown) => (ctx as { props: Record<string, unknown> }).props;

/** queues_json_messages: on from 2024-03-18 unless no_queues_json_messages. */
function queuesJsonDefault(compatibilityDate: string, flags: string[]): boolean {
  if (flags.includes("no_queues_json_messages")) return false;
  return flags.includes("queues_json_messages") || compatibilityDate >= "2024-03-18";
}

/** The env shim descriptor of a D1/R2/queue binding (a raw RPC stub inside); undefined for other kinds. */
export function dataBinding(
  b: Binding,
  version: { compatibilityDate: string; compatibilityFlags: string[] },
  ctx: Ctx,
): ShimDescriptor | undefined {
  if (b.type === "d1") return { kind: "d1", raw: ctx.exports.D1Binding!({ props: { id: String(b.id) } }) };
  if (b.type === "r2_bucket") {
    const jurisdiction = typeof b.jurisdiction === "string" ? b.jurisdiction : "";
    return { kind: "r2_bucket", raw: ctx.exports.R2Binding!({ props: { bucket: String(b.bucket_name), jurisdiction } }) };
  }
  if (b.type === "queue") {
    const delay = typeof b.delivery_delay === "number" ? b.delivery_delay : undefined;
    return {
      kind: "queue",
      raw: ctx.exports.QueueBinding!({ props: { queue: String(b.queue_name), ...(delay !== undefined ? { delay } : {}) } }),
      jsonDefault: queuesJsonDefault(version.compatibilityDate, version.compatibilityFlags),
    };
  }
  return undefined;
}

async function failure(r: Response, what: string): Promise<Error> {
  const body = (await r.json().catch(() => ({}))) as { error?: string };
  return new Error(`${what}: ${body.error ?? `the local edge answered ${r.status}`}`);
}

/** R2's own words for a refusal ("put: … (10037)", "uploadPart: … (10024)"), as its binding throws them. */
async function r2Failure(r: Response, what: string): Promise<Error> {
  const body = (await r.json().catch(() => ({}))) as { error?: string };
  return new Error(body.error ?? `${what}: the local edge answered ${r.status}`);
}

export class D1Binding extends WorkerEntrypoint<Env> {
  async query(req: { queries: Array<{ sql: string; params: unknown[] }>; mode: string }): Promise<unknown> {
    const id = propsOf(this.ctx).id as string;
    const r = await this.env.CONTROL.fetch(`http://control/d1/${id}/query`, { method: "POST", body: JSON.stringify(req) });
    if (!r.ok && r.status !== 400) throw await failure(r, "D1 query failed");
    return r.json();
  }
}

/** Longest options JSON sent in the URL; longer ones are staged first (control-data.ts). */
const MAX_INLINE_OPTS = 2000;

export class R2Binding extends WorkerEntrypoint<Env> {
  #url(op: string, params: Record<string, string> = {}): string {
    const p = propsOf(this.ctx) as { bucket: string; jurisdiction: string };
    return `http://control/r2/${op}?${new URLSearchParams({ bucket: p.bucket, jurisdiction: p.jurisdiction, ...params })}`;
  }
  /** `opts` as URL parameters: inline, or staged when long (custom metadata of up to 8 KiB). */
  async #opts(opts: unknown): Promise<Record<string, string>> {
    const text = JSON.stringify(opts ?? {});
    if (text.length <= MAX_INLINE_OPTS) return { opts: text };
    const r = await this.env.CONTROL.fetch(this.#url("stage-opts"), { method: "POST", body: text });
    if (!r.ok) throw await r2Failure(r, "put");
    return { optsRef: ((await r.json()) as { ref: string }).ref };
  }
  async head(key: string): Promise<R2Meta | null> {
    checkR2Key("head", key);
    const r = await this.env.CONTROL.fetch(this.#url("head", { key }));
    if (r.status === 404) return null;
    if (!r.ok) throw await r2Failure(r, "head");
    return r.json();
  }
  async get(key: string, opts: unknown): Promise<{ meta: R2Meta; body: ReadableStream | null } | null> {
    checkR2Key("get", key);
    const r = await this.env.CONTROL.fetch(this.#url("get", { key, opts: JSON.stringify(opts ?? {}) }));
    if (r.status === 404) return null;
    if (!r.ok) throw await r2Failure(r, "get");
    const meta = JSON.parse(decodeURIComponent(r.headers.get("x-r2-meta") ?? "")) as R2Meta;
    // 412: the onlyIf precondition failed; R2 then answers the object without a body.
    return { meta, body: r.status === 412 ? null : r.body };
  }
  async put(key: string, body: ReadableStream | Uint8Array | string, opts: unknown): Promise<R2Meta | null> {
    checkR2Key("put", key);
    checkR2Metadata("put", (opts as { customMetadata?: Record<string, string> } | undefined)?.customMetadata);
    const r = await this.env.CONTROL.fetch(this.#url("put", { key, ...(await this.#opts(opts)) }), { method: "PUT", body });
    if (r.status === 412) return null;
    if (!r.ok) throw await r2Failure(r, "put");
    return r.json();
  }
  async delete(keys: string[]): Promise<void> {
    for (const k of keys) checkR2Key("delete", k);
    const r = await this.env.CONTROL.fetch(this.#url("delete"), { method: "POST", body: JSON.stringify(keys) });
    if (!r.ok) throw await r2Failure(r, "delete");
  }
  async list(opts: unknown): Promise<unknown> {
    checkR2ListLimit((opts as { limit?: unknown } | undefined)?.limit);
    const r = await this.env.CONTROL.fetch(this.#url("list", { opts: JSON.stringify(opts ?? {}) }));
    if (!r.ok) throw await r2Failure(r, "list");
    return r.json();
  }
  // Multipart uploads (state/r2.ts keeps the parts).
  async createMultipart(key: string, opts: unknown): Promise<{ uploadId: string }> {
    checkR2Key("createMultipartUpload", key);
    checkR2Metadata("createMultipartUpload", (opts as { customMetadata?: Record<string, string> } | undefined)?.customMetadata);
    const r = await this.env.CONTROL.fetch(this.#url("mpu-create", { key, ...(await this.#opts(opts)) }), { method: "POST" });
    if (!r.ok) throw await r2Failure(r, "createMultipartUpload");
    return r.json();
  }
  async uploadPart(key: string, uploadId: string, partNumber: number, body: ReadableStream | Uint8Array | string) {
    const r = await this.env.CONTROL.fetch(this.#url("mpu-part", { key, uploadId, opts: JSON.stringify({ partNumber }) }), {
      method: "PUT",
      body,
    });
    if (!r.ok) throw await r2Failure(r, "uploadPart");
    return r.json() as Promise<{ partNumber: number; etag: string }>;
  }
  async completeMultipart(key: string, uploadId: string, parts: Array<{ partNumber: number; etag: string }>): Promise<R2Meta> {
    const r = await this.env.CONTROL.fetch(this.#url("mpu-complete", { key, uploadId }), { method: "POST", body: JSON.stringify(parts) });
    if (!r.ok) throw await r2Failure(r, "completeMultipartUpload");
    return r.json();
  }
  async abortMultipart(key: string, uploadId: string): Promise<void> {
    const r = await this.env.CONTROL.fetch(this.#url("mpu-abort", { key, uploadId }), { method: "POST" });
    if (!r.ok) throw await r2Failure(r, "abortMultipartUpload");
  }
}

function toB64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export class QueueBinding extends WorkerEntrypoint<Env> {
  async #call(op: string, body?: unknown): Promise<unknown> {
    const p = propsOf(this.ctx) as { queue: string };
    const r = await this.env.CONTROL.fetch(`http://control/queue/${op}?${new URLSearchParams({ queue: p.queue })}`, {
      method: "POST",
      body: JSON.stringify(body ?? {}),
    });
    if (!r.ok) throw await failure(r, op === "send" ? "Queue send failed" : "Queue metrics failed");
    return r.json();
  }
  async send(messages: EncodedMessage[]): Promise<unknown> {
    const delay = (propsOf(this.ctx) as { delay?: number }).delay;
    return this.#call("send", {
      messages: messages.map((m) => ({
        contentType: m.contentType,
        ...(typeof m.body === "string" ? { text: m.body } : { base64: toB64(m.body) }),
        ...(m.delaySeconds !== undefined ? { delaySeconds: m.delaySeconds } : delay !== undefined ? { delaySeconds: delay } : {}),
      })),
    });
  }
  async metrics(): Promise<unknown> {
    return this.#call("metrics");
  }
}
