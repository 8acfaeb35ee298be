// The R2 binding a Worker sees (env.BUCKET): R2Object / R2ObjectBody are plain objects with
// methods (text(), writeHttpMetadata(), …), which an RPC stub cannot hand out, so the shape lives
// here and the bytes and metadata come from the router's R2Binding entrypoint (the `raw` stub).
// Follows workers-types' R2Bucket: get/head/put/delete/list with ranges, onlyIf, httpMetadata
// (object or Headers), customMetadata and `include` for list(), and multipart uploads
// (createMultipartUpload / resumeMultipartUpload: uploadPart, complete, abort).

export type R2Meta = {
  key: string;
  version: string;
  size: number;
  etag: string;
  uploaded: number;
  httpMetadata?: Record<string, string>;
  customMetadata?: Record<string, string>;
  storageClass: string;
  range?: { offset: number; length: number };
};

type Range = { offset?: number; length?: number; suffix?: number };
type OnlyIf = { etagMatches?: string; etagDoesNotMatch?: string; uploadedBefore?: number; uploadedAfter?: number };

/** The router's R2Binding entrypoint, as an RPC stub. */
export type R2RawStub = {
  head(key: string): Promise<R2Meta | null>;
  get(key: string, opts: { range?: Range; onlyIf?: OnlyIf }): Promise<{ meta: R2Meta; body: ReadableStream | null } | null>;
  put(
    key: string,
    body: ReadableStream | Uint8Array | string,
    opts: {
      httpMetadata: Record<string, string>;
      customMetadata: Record<string, string>;
      onlyIf?: OnlyIf;
      storageClass?: string;
      md5?: string;
    },
  ): Promise<R2Meta | null>;
  delete(keys: string[]): Promise<void>;
  list(opts: {
    prefix?: string;
    cursor?: string;
    startAfter?: string;
    limit?: number;
    delimiter?: string;
    include?: string[];
  }): Promise<{ objects: R2Meta[]; truncated: boolean; cursor?: string; delimitedPrefixes: string[] }>;
  createMultipart(
    key: string,
    opts: { httpMetadata: Record<string, string>; customMetadata: Record<string, string>; storageClass?: string },
  ): Promise<{ uploadId: string }>;
  uploadPart(key: string, uploadId: string, partNumber: number, body: ReadableStream | Uint8Array | string): Promise<R2UploadedPart>;
  completeMultipart(key: string, uploadId: string, parts: R2UploadedPart[]): Promise<R2Meta>;
  abortMultipart(key: string, uploadId: string): Promise<void>;
};

export type R2UploadedPart = { partNumber: number; etag: string };

type Body = ReadableStream | ArrayBuffer | ArrayBufferView | string | null | Blob;

/** A put() or uploadPart() value as the raw stub takes it. */
async function bodyOf(value: Body | undefined, what: string): Promise<ReadableStream | Uint8Array | string> {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof Blob) return new Uint8Array(await value.arrayBuffer());
  if (value instanceof ReadableStream) return value;
  throw new TypeError(`R2 ${what}() takes a ReadableStream, ArrayBuffer, ArrayBufferView, string, Blob or null.`);
}

/** workers-types' R2MultipartUpload: parts are uploaded, then complete() makes the object. */
export class R2MultipartUpload {
  readonly key: string;
  readonly uploadId: string;
  readonly #raw: R2RawStub;
  constructor(raw: R2RawStub, key: string, uploadId: string) {
    this.#raw = raw;
    this.key = key;
    this.uploadId = uploadId;
  }
  async uploadPart(partNumber: number, value: Body): Promise<R2UploadedPart> {
    // workerd's binding takes an integer (1.5 is 1, NaN is 0) and refuses one out of range itself.
    const n = Math.trunc(Number(partNumber)) || 0;
    if (n < 1 || n > 10_000) throw new TypeError(`Part number must be between 1 and 10000 (inclusive). Actual value was: ${n}`);
    return this.#raw.uploadPart(this.key, this.uploadId, n, await bodyOf(value, "uploadPart"));
  }
  async abort(): Promise<void> {
    await this.#raw.abortMultipart(this.key, this.uploadId);
  }
  async complete(uploadedParts: R2UploadedPart[]): Promise<R2Object> {
    const parts = (uploadedParts ?? []).map((p) => ({ partNumber: Number(p.partNumber), etag: String(p.etag) }));
    return new R2Object(await this.#raw.completeMultipart(this.key, this.uploadId, parts));
  }
}

const HTTP_FIELDS: Array<[string, string]> = [
  ["contentType", "content-type"],
  ["contentLanguage", "content-language"],
  ["contentDisposition", "content-disposition"],
  ["contentEncoding", "content-encoding"],
  ["cacheControl", "cache-control"],
  ["cacheExpiry", "expires"],
];

function httpMetadataFrom(input: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!input) return out;
  if (input instanceof Headers) {
    for (const [field, header] of HTTP_FIELDS) {
      const v = input.get(header);
      if (v !== null) out[field] = v;
    }
    return out;
  }
  for (const [field] of HTTP_FIELDS) {
    const v = (input as Record<string, unknown>)[field];
    if (v instanceof Date) out[field] = v.toUTCString();
    else if (v !== undefined && v !== null) out[field] = String(v);
  }
  return out;
}

function hexToBuffer(hex: string): ArrayBuffer {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out.buffer;
}

function rangeFrom(input: unknown): Range | undefined {
  if (!input) return undefined;
  if (input instanceof Headers) {
    const m = /^bytes=(\d*)-(\d*)$/.exec(input.get("range") ?? "");
    if (!m) return undefined;
    if (m[1] === "") return { suffix: Number(m[2]) };
    return m[2] === "" ? { offset: Number(m[1]) } : { offset: Number(m[1]), length: Number(m[2]) - Number(m[1]) + 1 };
  }
  return input as Range;
}

function onlyIfFrom(input: unknown): OnlyIf | undefined {
  if (!input) return undefined;
  const unquote = (s: string | null) => (s === null ? undefined : s.replace(/^W\//, "").replace(/^"|"$/g, ""));
  if (input instanceof Headers) {
    const out: OnlyIf = {};
    const m = unquote(input.get("if-match"));
    const n = unquote(input.get("if-none-match"));
    const before = input.get("if-unmodified-since");
    const after = input.get("if-modified-since");
    if (m) out.etagMatches = m;
    if (n) out.etagDoesNotMatch = n;
    if (before) out.uploadedBefore = Date.parse(before);
    if (after) out.uploadedAfter = Date.parse(after);
    return out;
  }
  const o = input as Record<string, unknown>;
  const time = (v: unknown) => (v instanceof Date ? v.getTime() : v === undefined ? undefined : Number(v));
  const out: OnlyIf = {};
  if (o.etagMatches !== undefined) out.etagMatches = String(o.etagMatches);
  if (o.etagDoesNotMatch !== undefined) out.etagDoesNotMatch = String(o.etagDoesNotMatch);
  const before = time(o.uploadedBefore);
  const after = time(o.uploadedAfter);
  if (before !== undefined) out.uploadedBefore = before;
  if (after !== undefined) out.uploadedAfter = after;
  return out;
}

export class R2Object {
  readonly key: string;
  readonly version: string;
  readonly size: number;
  readonly etag: string;
  readonly httpEtag: string;
  readonly uploaded: Date;
  readonly httpMetadata?: Record<string, string | Date>;
  readonly customMetadata?: Record<string, string>;
  readonly range?: { offset: number; length: number };
  readonly storageClass: string;
  readonly checksums: { md5?: ArrayBuffer; toJSON(): Record<string, string> };
  constructor(m: R2Meta) {
    this.key = m.key;
    this.version = m.version;
    this.size = m.size;
    this.etag = m.etag;
    this.httpEtag = `"${m.etag}"`;
    this.uploaded = new Date(m.uploaded);
    if (m.httpMetadata) {
      const h: Record<string, string | Date> = { ...m.httpMetadata };
      if (typeof h.cacheExpiry === "string") h.cacheExpiry = new Date(h.cacheExpiry);
      this.httpMetadata = h;
    }
    if (m.customMetadata) this.customMetadata = m.customMetadata;
    if (m.range) this.range = m.range;
    this.storageClass = m.storageClass;
    const md5 = m.etag;
    this.checksums = { md5: hexToBuffer(md5), toJSON: () => ({ md5 }) };
  }
  writeHttpMetadata(headers: Headers): void {
    for (const [field, header] of HTTP_FIELDS) {
      const v = this.httpMetadata?.[field];
      if (v !== undefined) headers.set(header, v instanceof Date ? v.toUTCString() : v);
    }
  }
}

export class R2ObjectBody extends R2Object {
  readonly #response: Response;
  constructor(m: R2Meta, body: ReadableStream | null) {
    super(m);
    this.#response = new Response(body);
  }
  get body(): ReadableStream {
    return this.#response.body ?? new Blob([]).stream();
  }
  get bodyUsed(): boolean {
    return this.#response.bodyUsed;
  }
  arrayBuffer(): Promise<ArrayBuffer> {
    return this.#response.arrayBuffer();
  }
  async bytes(): Promise<Uint8Array> {
    return new Uint8Array(await this.#response.arrayBuffer());
  }
  text(): Promise<string> {
    return this.#response.text();
  }
  json<T>(): Promise<T> {
    return this.#response.json() as Promise<T>;
  }
  blob(): Promise<Blob> {
    return this.#response.blob();
  }
}

export class R2Bucket {
  #raw: R2RawStub;
  constructor(raw: R2RawStub) {
    this.#raw = raw;
  }

  async head(key: string): Promise<R2Object | null> {
    const m = await this.#raw.head(String(key));
    return m ? new R2Object(m) : null;
  }

  async get(key: string, options?: { range?: unknown; onlyIf?: unknown }): Promise<R2ObjectBody | R2Object | null> {
    const opts: { range?: Range; onlyIf?: OnlyIf } = {};
    const range = rangeFrom(options?.range);
    const onlyIf = onlyIfFrom(options?.onlyIf);
    if (range) opts.range = range;
    if (onlyIf) opts.onlyIf = onlyIf;
    const r = await this.#raw.get(String(key), opts);
    if (!r) return null;
    // A failed precondition answers the object without its body, as R2 does.
    return r.body ? new R2ObjectBody(r.meta, r.body) : new R2Object(r.meta);
  }

  async put(
    key: string,
    value: ReadableStream | ArrayBuffer | ArrayBufferView | string | null | Blob,
    options?: {
      httpMetadata?: unknown;
      customMetadata?: Record<string, string>;
      onlyIf?: unknown;
      storageClass?: string;
      md5?: ArrayBuffer | string;
    },
  ): Promise<R2Object | null> {
    const body = await bodyOf(value, "put");
    const opts: Parameters<R2RawStub["put"]>[2] = {
      httpMetadata: httpMetadataFrom(options?.httpMetadata),
      customMetadata: Object.fromEntries(Object.entries(options?.customMetadata ?? {}).map(([k, v]) => [k, String(v)])),
    };
    const onlyIf = onlyIfFrom(options?.onlyIf);
    if (onlyIf) opts.onlyIf = onlyIf;
    if (options?.storageClass) opts.storageClass = options.storageClass;
    if (options?.md5 !== undefined) {
      opts.md5 =
        typeof options.md5 === "string"
          ? options.md5.toLowerCase()
          : [...new Uint8Array(options.md5)].map((b) => b.toString(16).padStart(2, "0")).join("");
    }
    const m = await this.#raw.put(String(key), body, opts);
    return m ? new R2Object(m) : null;
  }

  async delete(keys: string | string[]): Promise<void> {
    await this.#raw.delete((Array.isArray(keys) ? keys : [keys]).map(String));
  }

  async list(options?: { prefix?: string; cursor?: string; startAfter?: string; limit?: number; delimiter?: string; include?: string[] }) {
    const r = await this.#raw.list({ ...(options ?? {}) });
    const objects = r.objects.map((m) => new R2Object(m));
    return r.truncated
      ? { objects, truncated: true as const, cursor: r.cursor!, delimitedPrefixes: r.delimitedPrefixes }
      : { objects, truncated: false as const, delimitedPrefixes: r.delimitedPrefixes };
  }

  async createMultipartUpload(
    key: string,
    options?: { httpMetadata?: unknown; customMetadata?: Record<string, string>; storageClass?: string },
  ): Promise<R2MultipartUpload> {
    const { uploadId } = await this.#raw.createMultipart(String(key), {
      httpMetadata: httpMetadataFrom(options?.httpMetadata),
      customMetadata: Object.fromEntries(Object.entries(options?.customMetadata ?? {}).map(([k, v]) => [k, String(v)])),
      ...(options?.storageClass ? { storageClass: options.storageClass } : {}),
    });
    return new R2MultipartUpload(this.#raw, String(key), uploadId);
  }
  /** As at R2, nothing is checked until the upload is used. */
  resumeMultipartUpload(key: string, uploadId: string): R2MultipartUpload {
    return new R2MultipartUpload(this.#raw, String(key), String(uploadId));
  }
}
