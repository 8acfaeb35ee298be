// The Node side of the router's D1, R2 and queue bindings (workers/data-bindings.ts): what a
// Worker's env.DB / env.BUCKET / env.QUEUE calls end up as, answered from the edge's state and
// scoped to the region's account.
import { hexId } from "../../kit/ids.ts";
import type { D1Pool } from "../d1/pool.ts";
import { D1SqlError, type StatementResult } from "../d1/engine.ts";
import type { D1Store } from "../state/d1.ts";
import { R2UploadError, type R2Bucket, type R2ObjectRow, type R2Store } from "../state/r2.ts";
import type { QueueStore } from "../state/queues.ts";

export type DataControlDeps = {
  accountId: string;
  d1: D1Store;
  d1Pool: D1Pool;
  r2: R2Store;
  queues: QueueStore;
  /** A message was queued: wake the delivery loop. */
  queued: () => void;
};

const json = (v: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(v), { status, headers: { "content-type": "application/json", ...headers } });
const fail = (error: string, status = 400) => json({ error }, status);

type OnlyIf = { etagMatches?: string; etagDoesNotMatch?: string; uploadedBefore?: number; uploadedAfter?: number };

/** R2's conditional-request rules; `*` matches any existing object. */
export function preconditionHolds(o: R2ObjectRow | undefined, c: OnlyIf | undefined): boolean {
  if (!c) return true;
  const etags = (v: string) => v.split(",").map((s) => s.trim().replace(/^W\//, "").replace(/^"|"$/g, ""));
  if (c.etagMatches !== undefined && !(o && (etags(c.etagMatches).includes("*") || etags(c.etagMatches).includes(o.etag)))) return false;
  if (c.etagDoesNotMatch !== undefined && o && (etags(c.etagDoesNotMatch).includes("*") || etags(c.etagDoesNotMatch).includes(o.etag)))
    return false;
  if (c.uploadedBefore !== undefined && o && !(o.uploaded_ms < c.uploadedBefore)) return false;
  if (c.uploadedAfter !== undefined && o && !(o.uploaded_ms > c.uploadedAfter)) return false;
  return true;
}

export function r2Meta(o: R2ObjectRow, include = { http: true, custom: true }, range?: { offset: number; length: number }) {
  return {
    key: o.key,
    version: o.version,
    size: o.size,
    etag: o.etag,
    uploaded: o.uploaded_ms,
    storageClass: o.storage_class,
    ...(include.http ? { httpMetadata: o.http_metadata } : {}),
    ...(include.custom ? { customMetadata: o.custom_metadata } : {}),
    ...(range ? { range } : {}),
  };
}

/** The last statement's result of each group: what a D1 binding query answers per query. */
const lastOfEach = (groups: StatementResult[][]) => groups.map((g) => g.at(-1)!);

export function createDataControl(deps: DataControlDeps) {
  const { accountId } = deps;

  async function d1(parts: string[], request: Request): Promise<Response> {
    const db = deps.d1.byId((parts[1] ?? "").toLowerCase());
    if (!db || db.account_id !== accountId)
      return json({ ok: false, error: `D1 database ${parts[1]} does not exist in this account` }, 400);
    const body = (await request.json()) as { queries?: Array<{ sql: string; params?: unknown[] }>; mode?: string };
    const queries = (body.queries ?? []).map((q) => ({ sql: String(q.sql ?? ""), params: Array.isArray(q.params) ? q.params : [] }));
    if (queries.length === 0) return json({ ok: false, error: "No SQL statements detected." }, 400);
    try {
      const engine = deps.d1Pool.get(db.uuid);
      const out = body.mode === "exec" ? engine.runEach(queries) : engine.runAtomic(queries);
      return json({ ok: true, results: lastOfEach(out.results), bookmark: out.bookmark });
    } catch (e) {
      if (e instanceof D1SqlError) return json({ ok: false, error: e.message, index: e.index }, 400);
      throw e;
    }
  }

  /** A Worker's multipart upload (state/r2.ts): create, a part, complete, abort. */
  async function multipart(
    op: string,
    bucket: R2Bucket,
    key: string,
    opts: Record<string, unknown>,
    uploadId: string,
    request: Request,
  ): Promise<Response> {
    try {
      if (op === "mpu-create") {
        if (new TextEncoder().encode(key).byteLength > 1024)
          return fail("createMultipartUpload: The specified object name is not valid. (10020)");
        const o = opts as { httpMetadata?: Record<string, string>; customMetadata?: Record<string, string>; storageClass?: string };
        const u = deps.r2.createUpload(bucket, key, {
          httpMetadata: o.httpMetadata ?? {},
          customMetadata: o.customMetadata ?? {},
          ...(o.storageClass ? { storageClass: o.storageClass } : {}),
        });
        return json({ uploadId: u.upload_id });
      }
      const u = deps.r2.getUpload(bucket.id, key, uploadId);
      const verb = op === "mpu-part" ? "uploadPart" : op === "mpu-complete" ? "completeMultipartUpload" : "abortMultipartUpload";
      if (!u) return fail(`${verb}: The specified multipart upload does not exist. (10024)`);
      if (op === "mpu-part") {
        const p = await deps.r2.putPart(u, Number(opts.partNumber), request.body);
        return json({ partNumber: p.part_number, etag: p.etag });
      }
      if (op === "mpu-complete") {
        const parts = (await request.json()) as Array<{ partNumber: number; etag: string }>;
        return json(r2Meta(await deps.r2.completeUpload(bucket, u, Array.isArray(parts) ? parts : [])));
      }
      if (op === "mpu-abort") {
        deps.r2.abortUpload(u);
        return json({});
      }
    } catch (e) {
      if (e instanceof R2UploadError) return fail(e.message);
      throw e;
    }
    return fail(`no R2 operation ${op}`, 404);
  }

  async function r2(op: string, url: URL, request: Request): Promise<Response> {
    const q = url.searchParams;
    const jurisdiction = q.get("jurisdiction") || "default";
    const bucket = deps.r2.getBucket(accountId, jurisdiction, q.get("bucket") ?? "");
    if (!bucket)
      return fail(
        `The specified bucket does not exist. (10006) (bucket ${q.get("bucket")}${jurisdiction !== "default" ? `, jurisdiction ${jurisdiction}` : ""})`,
      );
    const key = q.get("key") ?? "";
    const ref = q.get("optsRef");
    const opts = JSON.parse((ref !== null ? takeStaged(ref) : undefined) ?? q.get("opts") ?? "{}") as Record<string, unknown>;
    if (op === "head") {
      const o = deps.r2.getObject(bucket.id, key);
      return o ? json(r2Meta(o)) : new Response(null, { status: 404 });
    }
    if (op === "get") {
      const o = deps.r2.getObject(bucket.id, key);
      if (!o) return new Response(null, { status: 404 });
      if (!preconditionHolds(o, opts.onlyIf as OnlyIf | undefined)) {
        return new Response(null, { status: 412, headers: { "x-r2-meta": encodeURIComponent(JSON.stringify(r2Meta(o))) } });
      }
      const r = opts.range as { offset?: number; length?: number; suffix?: number } | undefined;
      let range: { offset: number; length: number } | undefined;
      if (r && (r.offset !== undefined || r.length !== undefined || r.suffix !== undefined)) {
        const offset = r.suffix !== undefined ? Math.max(0, o.size - r.suffix) : (r.offset ?? 0);
        if (offset > o.size || offset < 0) return fail(`get: The requested range is not satisfiable (10039)`);
        const length = Math.min(r.suffix !== undefined ? o.size - offset : (r.length ?? o.size - offset), o.size - offset);
        range = { offset, length };
      }
      const body = deps.r2.read(o, range ? { start: range.offset, end: range.offset + range.length - 1 } : undefined);
      return new Response(body, { headers: { "x-r2-meta": encodeURIComponent(JSON.stringify(r2Meta(o, undefined, range))) } });
    }
    if (op === "put") {
      if (new TextEncoder().encode(key).byteLength > 1024) return fail("put: The specified object name is not valid. (10020)");
      const o = opts as {
        httpMetadata?: Record<string, string>;
        customMetadata?: Record<string, string>;
        onlyIf?: OnlyIf;
        storageClass?: string;
        md5?: string;
      };
      let md5Mismatch: string | undefined;
      const row = await deps.r2.putObject(
        bucket,
        key,
        request.body,
        {
          httpMetadata: o.httpMetadata ?? {},
          customMetadata: o.customMetadata ?? {},
          ...(o.storageClass ? { storageClass: o.storageClass } : {}),
        },
        (existing, etag) => {
          md5Mismatch = o.md5 !== undefined && o.md5 !== etag ? etag : undefined;
          return md5Mismatch === undefined && preconditionHolds(existing, o.onlyIf);
        },
      );
      // R2's words (Miniflare's R2 service, which mirrors them).
      if (md5Mismatch !== undefined)
        return fail(
          `put: The MD5 checksum you specified did not match what we received.\nYou provided a MD5 checksum with value: ${o.md5}\nActual MD5 was: ${md5Mismatch} (10037)`,
        );
      return row ? json(r2Meta(row)) : new Response(null, { status: 412 });
    }
    if (op === "delete") {
      const keys = (await request.json()) as string[];
      deps.r2.deleteObjects(bucket.id, keys.map(String));
      return json({});
    }
    if (op === "list") {
      const o = opts as { prefix?: string; cursor?: string; startAfter?: string; limit?: number; delimiter?: string; include?: string[] };
      const limit = Math.min(1000, Math.max(1, Math.floor(Number(o.limit ?? 1000)) || 1000));
      const cursor = o.cursor ? Buffer.from(o.cursor, "base64url").toString("utf8") : "";
      const startAfter = [cursor, o.startAfter ?? ""].sort().at(-1)!;
      const page = deps.r2.list(bucket.id, {
        prefix: o.prefix ?? "",
        startAfter,
        limit,
        ...(o.delimiter ? { delimiter: o.delimiter } : {}),
      });
      const include = { http: o.include?.includes("httpMetadata") ?? false, custom: o.include?.includes("customMetadata") ?? false };
      return json({
        objects: page.objects.map((x) => r2Meta(x, include)),
        truncated: page.truncated,
        ...(page.cursor ? { cursor: Buffer.from(page.cursor, "utf8").toString("base64url") } : {}),
        delimitedPrefixes: page.prefixes,
      });
    }
    if (op.startsWith("mpu-")) return multipart(op, bucket, key, opts, q.get("uploadId") ?? "", request);
    return fail(`no R2 operation ${op}`, 404);
  }

  async function queue(op: string, url: URL, request: Request): Promise<Response> {
    const name = url.searchParams.get("queue") ?? "";
    const q = deps.queues.byName(accountId, name);
    if (!q) return fail(`Queue "${name}" does not exist in this account.`);
    const metrics = () => {
      const b = deps.queues.backlog(q.id);
      return { backlogCount: b.count, backlogBytes: b.bytes, ...(b.oldestMs !== null ? { oldestMessageTimestamp: b.oldestMs } : {}) };
    };
    if (op === "metrics") return json(metrics());
    if (op === "send") {
      const body = (await request.json()) as {
        messages?: Array<{ contentType: string; text?: string; base64?: string; delaySeconds?: number }>;
      };
      const t = Date.now();
      deps.queues.enqueue(
        (body.messages ?? []).map((m) => ({
          id: hexId(16),
          queue_id: q.id,
          body: m.base64 !== undefined ? new Uint8Array(Buffer.from(m.base64, "base64")) : new TextEncoder().encode(m.text ?? ""),
          content_type: m.contentType,
          created_ms: t,
          visible_ms: t + (m.delaySeconds ?? q.settings.delivery_delay) * 1000,
        })),
      );
      deps.queued();
      return json(metrics());
    }
    return fail(`no queue operation ${op}`, 404);
  }

  /**
   * Options too long for a URL (R2's custom metadata may be 8 KiB, more once encoded, and the
   * loopback refuses long request heads with 431): the binding stages them first, then names them
   * in the call (workers/data-bindings.ts). Taken once; the oldest go beyond STAGED_MAX.
   */
  const staged = new Map<string, string>();
  const STAGED_MAX = 1000;
  function takeStaged(ref: string): string | undefined {
    const v = staged.get(ref);
    staged.delete(ref);
    return v;
  }

  /** Answers /d1, /r2 and /queue control calls; undefined for any other path. */
  return async function dataControl(request: Request): Promise<Response | undefined> {
    const url = new URL(request.url);
    const parts = url.pathname.split("/").filter(Boolean);
    if (parts[0] === "d1") return d1(parts, request);
    if (parts[0] === "r2" && parts[1] === "stage-opts") {
      const ref = hexId(16);
      staged.set(ref, await request.text());
      if (staged.size > STAGED_MAX) staged.delete(staged.keys().next().value!);
      return json({ ref });
    }
    if (parts[0] === "r2" && parts[1]) return r2(parts[1], url, request);
    if (parts[0] === "queue" && parts[1]) return queue(parts[1], url, request);
    return undefined;
  };
}
