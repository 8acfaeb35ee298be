// What the API groups (workers, kv, tunnels, accounts) share: the SDK and the raw transport, both
// over the same budget and retries, and the few ways of turning an answer into a checked value.
import type Cloudflare from "cloudflare";
import type { z } from "zod";
import { CboError } from "../kit/errors.ts";
import { cloudflareApiError, cloudflareErrorsOf, fromSdkError, responseShapeError, type RequestContext } from "./errors.ts";
import { AccountSchema, EnvelopeSchema } from "./schemas.ts";
import { responseInfo, type Transport } from "./transport.ts";

export type Query = Record<string, string | number | boolean | undefined>;

export type RawInit = {
  query?: Query;
  /** A plain object or array is sent as JSON; anything else (FormData, bytes, text) as it is. */
  body?: unknown;
  headers?: Record<string, string>;
};

/** Any SDK list: awaiting it gives the first page, which iterates the rest. */
export type SdkPageList = PromiseLike<{ iterPages(): AsyncIterable<{ getPaginatedItems(): unknown[] }> }>;

export type ApiContext = {
  /** The SDK client, loaded on first use. */
  sdk: () => Promise<Cloudflare>;
  /** The configured account, or the token's only account. */
  accountId(): Promise<string>;
  /** Raw call; answers of any status come back as they are. */
  raw(method: string, path: string, init?: RawInit): Promise<Response>;
  /** Raw call; non-2xx throws the mapped error. */
  send(method: string, path: string, init?: RawInit): Promise<Response>;
  /** Raw JSON call: envelope checked, `result` validated. */
  json<T>(method: string, path: string, schema: z.ZodType<T>, init?: RawInit): Promise<T>;
  /** The error a failed answer stands for (reads the body). */
  failure(response: Response, method: string, path: string): Promise<CboError>;
  /** An SDK call with its errors mapped and its result validated. `where` names it in errors. */
  viaSdk<T>(where: RequestContext, schema: z.ZodType<T>, call: (sdk: Cloudflare) => PromiseLike<unknown>): Promise<T>;
  /** Every item of an SDK list, page after page, each validated. */
  viaSdkPages<T>(where: RequestContext, item: z.ZodType<T>, call: (sdk: Cloudflare) => SdkPageList): Promise<T[]>;
};

/** A list that has not ended after this many pages is a server ignoring `page`/`cursor`. */
const MAX_PAGES = 10_000;

export function createApiContext(opts: {
  sdk: () => Promise<Cloudflare>;
  transport: Transport;
  accountId?: string;
}): ApiContext {
  const { sdk, transport } = opts;

  const configured = opts.accountId;
  const accountId =
    configured !== undefined
      ? () => Promise.resolve(configured)
      : once(async () => {
          const accounts = await ctx.viaSdkPages({ method: "GET", path: "/accounts" }, AccountSchema, (s) => s.accounts.list());
          if (accounts.length === 1) return accounts[0]!.id;
          throw new CboError("ERR_VALIDATION", `an account id is needed: the API token sees ${accounts.length} accounts`, {
            details: { accounts: accounts.map((a) => a.id) },
          });
        });

  async function raw(method: string, path: string, init: RawInit = {}): Promise<Response> {
    const search = new URLSearchParams();
    for (const [k, v] of Object.entries(init.query ?? {})) if (v !== undefined) search.set(k, String(v));
    const qs = search.size > 0 ? `?${search}` : "";
    const headers: Record<string, string> = { accept: "application/json", ...init.headers };
    let body: RequestInit["body"];
    if (init.body === undefined) body = undefined;
    else if (isJsonBody(init.body)) {
      body = JSON.stringify(init.body);
      headers["content-type"] ??= "application/json";
    } else body = init.body as RequestInit["body"];
    return transport(path + qs, { method, headers, ...(body === undefined ? {} : { body }) });
  }

  async function failure(response: Response, method: string, path: string): Promise<CboError> {
    const info = responseInfo(response);
    const text = await response.text().catch(() => "");
    const parsed = tryJson(text);
    return cloudflareApiError({
      status: response.status,
      method: info?.method ?? method,
      path: info?.path ?? path,
      errors: cloudflareErrorsOf(parsed.ok ? parsed.value : undefined),
      ...(info ? { attempts: info.attempts } : {}),
      ...(parsed.ok ? {} : { bodySnippet: text.slice(0, 200) }),
    });
  }

  async function send(method: string, path: string, init?: RawInit): Promise<Response> {
    const response = await raw(method, path, init);
    if (!response.ok) throw await failure(response, method, path);
    return response;
  }

  async function json<T>(method: string, path: string, schema: z.ZodType<T>, init?: RawInit): Promise<T> {
    const response = await raw(method, path, init);
    if (!response.ok) throw await failure(response, method, path);
    const parsed = tryJson(await response.text());
    const where = { method, path, status: response.status };
    if (!parsed.ok) throw responseShapeError({ ...where, problem: "a body that is not JSON" });
    const envelope = EnvelopeSchema.safeParse(parsed.value);
    if (!envelope.success) throw responseShapeError({ ...where, problem: "JSON that is not a v4 envelope" });
    if (!envelope.data.success) {
      throw cloudflareApiError({ ...where, errors: cloudflareErrorsOf(envelope.data), attempts: responseInfo(response)?.attempts });
    }
    return validate(schema, envelope.data.result, where);
  }

  async function viaSdk<T>(where: RequestContext, schema: z.ZodType<T>, call: (s: Cloudflare) => PromiseLike<unknown>): Promise<T> {
    let result: unknown;
    try {
      result = await call(await sdk());
    } catch (e) {
      throw fromSdkError(e, where);
    }
    return validate(schema, result, where);
  }

  async function viaSdkPages<T>(where: RequestContext, item: z.ZodType<T>, call: (s: Cloudflare) => SdkPageList): Promise<T[]> {
    const items: unknown[] = [];
    try {
      let pages = 0;
      let previous: string | undefined;
      for await (const page of (await call(await sdk())).iterPages()) {
        const pageItems = page.getPaginatedItems();
        const fingerprint = pageItems.length > 0 ? JSON.stringify(pageItems) : undefined;
        if (++pages > MAX_PAGES || (fingerprint !== undefined && fingerprint === previous)) {
          throw responseShapeError({ ...where, problem: "the same page again and again (is `page`/`cursor` ignored?)" });
        }
        previous = fingerprint;
        items.push(...pageItems);
      }
    } catch (e) {
      throw fromSdkError(e, where);
    }
    return items.map((value) => validate(item, value, where));
  }

  const ctx: ApiContext = { sdk, accountId, raw, send, json, failure, viaSdk, viaSdkPages };
  return ctx;
}

export function validate<T>(schema: z.ZodType<T>, value: unknown, where: RequestContext & { status?: number }): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
  throw responseShapeError({ ...where, problem: `a result of unexpected shape: ${issues.join("; ")}` });
}

/** `encodeURIComponent` for ids and names placed in a path. */
export const seg = encodeURIComponent;

function isJsonBody(body: unknown): boolean {
  if (Array.isArray(body)) return true;
  if (body === null || typeof body !== "object") return false;
  const proto = Object.getPrototypeOf(body);
  return proto === Object.prototype || proto === null;
}

function tryJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let promise: Promise<T> | undefined;
  return () => {
    promise ??= fn().catch((e: unknown) => {
      promise = undefined;
      throw e;
    });
    return promise;
  };
}
