// A KV namespace binding of a loaded Worker: an RPC stub whose calls go to the edge's control
// (runtime/control.ts), where the namespace lives in the SQLite store. Refusals are the runtime's,
// word for word and by class: what workerd's KV binding checks itself (an empty key, "." and "..",
// a key over 512 bytes, at most 100 keys in a bulk get) is checked here, and what Cloudflare's KV
// service answers (value 25 MiB, metadata 1024 bytes, expiration_ttl >= 60, cache_ttl >= 30,
// key_count_limit <= 1000) comes back as workerd words it: "KV <OP> failed: <status> <message>".
// The words were taken from workerd with Miniflare's KV service, which mirrors Cloudflare's.
import { WorkerEntrypoint } from "cloudflare:workers";

type Env = { CONTROL: Fetcher };

const MAX_KEY_BYTES = 512;
const MAX_BULK_KEYS = 100;
const MAX_LIST_KEYS = 1000;
const MIN_CACHE_TTL = 30;

/** workerd's own refusals of a key, before anything is sent. */
function checkKey(op: string, key: string): void {
  if (key === "") throw new TypeError("Key name cannot be empty.");
  if (key === "." || key === "..") throw new TypeError(`"${key}" is not allowed as a key name.`);
  checkKeyLength(op, key);
}

function checkKeyLength(op: string, key: string): void {
  const n = new TextEncoder().encode(key).length;
  if (n > MAX_KEY_BYTES) throw new Error(`KV ${op} failed: 414 UTF-8 encoded length of ${n} exceeds key length limit of ${MAX_KEY_BYTES}.`);
}

/** A refusal of the KV service (control.ts answers it as status + text), in workerd's words. */
async function failed(op: string, r: Response): Promise<Error> {
  return new Error(`KV ${op} failed: ${r.status} ${await r.text()}`);
}

type GetOptions = { type?: string; cacheTtl?: number };

export class KvBinding extends WorkerEntrypoint<Env> {
  #path(op: string, params: Record<string, string | undefined> = {}): string {
    const ns = (this.ctx as unknown as { props: { ns: string } }).props.ns;
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, v);
    return `http://control/kv/${ns}/${op}?${q}`;
  }
  async #read(key: string, opts: string | GetOptions | undefined): Promise<{ value: unknown; metadata: unknown } | null> {
    const type = typeof opts === "string" ? opts : (opts?.type ?? "text");
    const cacheTtl = typeof opts === "object" ? opts?.cacheTtl : undefined;
    if (cacheTtl !== undefined && (Number.isNaN(Number(cacheTtl)) || cacheTtl < MIN_CACHE_TTL))
      throw new Error(`KV GET failed: 400 Invalid cache_ttl of ${cacheTtl}. Cache TTL must be at least ${MIN_CACHE_TTL}.`);
    const r = await this.env.CONTROL.fetch(this.#path("value", { key }));
    if (r.status === 404) return null;
    if (!r.ok) throw await failed("GET", r);
    const meta = r.headers.get("x-kv-metadata");
    const metadata = meta ? JSON.parse(decodeURIComponent(meta)) : null;
    let value: unknown;
    if (type === "json") value = await r.json();
    else if (type === "arrayBuffer") value = await r.arrayBuffer();
    else if (type === "stream") value = r.body;
    else value = await r.text();
    return { value, metadata };
  }
  /** get(keys[]): a Map of each key to its value (or value and metadata, null when missing), up to 100 keys, text or json. */
  async #bulk(keys: unknown[], opts: string | GetOptions | undefined, withMetadata: boolean): Promise<Map<string, unknown>> {
    const list = keys.map(String);
    for (const k of list) checkKey("GET_BULK", k);
    if (list.length > MAX_BULK_KEYS) throw new Error(`KV GET_BULK failed: 400 You can request a maximum of ${MAX_BULK_KEYS} keys`);
    const type = typeof opts === "string" ? opts : (opts?.type ?? "text");
    if (type !== "text" && type !== "json") throw new Error(`KV GET_BULK failed: 400 "${type}" is not a valid type. Use "json" or "text"`);
    const out = new Map<string, unknown>();
    for (const k of list) {
      const e = await this.#read(k, opts);
      out.set(k, withMetadata ? (e ?? null) : (e?.value ?? null));
    }
    return out;
  }
  async get(key: string | string[], opts?: string | GetOptions): Promise<unknown> {
    if (Array.isArray(key)) return this.#bulk(key, opts, false);
    checkKey("GET", String(key));
    return (await this.#read(String(key), opts))?.value ?? null;
  }
  async getWithMetadata(key: string | string[], opts?: string | GetOptions): Promise<unknown> {
    if (Array.isArray(key)) return this.#bulk(key, opts, true);
    checkKey("GET", String(key));
    return { ...((await this.#read(String(key), opts)) ?? { value: null, metadata: null }), cacheStatus: null };
  }
  async put(
    key: string,
    value: string | ArrayBuffer | ArrayBufferView | ReadableStream,
    opts?: { expiration?: number; expirationTtl?: number; metadata?: unknown },
  ): Promise<void> {
    checkKey("PUT", String(key));
    const body =
      typeof value === "string" || value instanceof ArrayBuffer || ArrayBuffer.isView(value) || value instanceof ReadableStream
        ? value
        : String(value);
    const r = await this.env.CONTROL.fetch(
      this.#path("value", {
        key: String(key),
        expiration: opts?.expiration?.toString(),
        expiration_ttl: opts?.expirationTtl?.toString(),
        metadata: opts?.metadata === undefined ? undefined : JSON.stringify(opts.metadata),
      }),
      { method: "PUT", body: body as BodyInit },
    );
    if (!r.ok) throw await failed("PUT", r);
  }
  async delete(key: string): Promise<void> {
    checkKey("DELETE", String(key));
    const r = await this.env.CONTROL.fetch(this.#path("value", { key: String(key) }), { method: "DELETE" });
    if (!r.ok) throw await failed("DELETE", r);
  }
  async list(opts?: { prefix?: string; limit?: number; cursor?: string }): Promise<unknown> {
    if (opts?.limit !== undefined && opts.limit > MAX_LIST_KEYS)
      throw new Error(`KV GET failed: 400 Invalid key_count_limit of ${opts.limit}. Please specify an integer less than ${MAX_LIST_KEYS}.`);
    if (opts?.prefix != null) checkKeyLength("GET", String(opts.prefix));
    const r = await this.env.CONTROL.fetch(
      this.#path("list", { prefix: opts?.prefix, limit: opts?.limit?.toString(), cursor: opts?.cursor }),
    );
    if (!r.ok) throw await failed("GET", r);
    return r.json();
  }
}
