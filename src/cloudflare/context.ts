// What the API groups (workers, secrets, kv, tunnels, accounts) share: one raw path over the
// transport (budget and retries), the envelope check, paging, and the few ways of turning an answer
// into a checked value. Every call of the client goes through here; the official SDK is not used at
// run time (it cost the daemon ~40 MiB of memory for calls this covers; test/sdk.test.ts keeps
// proving that the SDK itself works against the local edge).
import type * as z from "zod";
import { CboError } from "../kit/errors.ts";
import { cloudflareApiError, cloudflareErrorsOf, responseShapeError, type RequestContext } from "./errors.ts";
import { listPages, type Paging } from "./paging.ts";
import { AccountSchema, EnvelopeSchema } from "./schemas.ts";
import { responseInfo, type Transport } from "./transport.ts";

export type Query = Record<string, string | number | boolean | undefined>;

export type RawInit = {
  /** The endpoint class for metrics (see TransportRequestInfo.endpoint), e.g. `d1.query`. */
  endpoint?: string;
  query?: Query;
  /** A plain object or array is sent as JSON; anything else (FormData, bytes, text) as it is. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Not retried after an answer that may follow the change (transport.ts, TransportInit.once). */
  once?: boolean;
};

/** A successful v4 envelope: its `result` and `result_info` (paging), both still unchecked. */
export type Envelope = { result: unknown; resultInfo: unknown; where: RequestContext & { status: number } };

export type ApiContext = {
  /** The configured account, or the token's only account. */
  accountId(): Promise<string>;
  /** Raw call; answers of any status come back as they are. */
  raw(method: string, path: string, init?: RawInit): Promise<Response>;
  /** Raw call; non-2xx throws the mapped error. */
  send(method: string, path: string, init?: RawInit): Promise<Response>;
  /** JSON call: non-2xx or `success: false` throws the mapped error; the envelope comes back. */
  envelope(method: string, path: string, init?: RawInit): Promise<Envelope>;
  /** JSON call: envelope checked, `result` validated. */
  json<T>(method: string, path: string, schema: z.ZodType<T>, init?: RawInit): Promise<T>;
  /** Every item of a list, page after page as `paging` says (see paging.ts), each validated. */
  list<T>(path: string, item: z.ZodType<T>, opts: { paging: Paging; query?: Query; endpoint?: string }): Promise<T[]>;
  /** The error a failed answer stands for (reads the body). */
  failure(response: Response, method: string, path: string): Promise<CboError>;
};

export function createApiContext(opts: { transport: Transport; accountId?: string }): ApiContext {
  const { transport } = opts;

  const configured = opts.accountId;
  const accountId =
    configured !== undefined
      ? () => Promise.resolve(configured)
      : once(async () => {
          const accounts = await ctx.list("/accounts", AccountSchema, { paging: "pages", endpoint: "accounts.list" });
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
    return transport(path + qs, {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
      ...(init.endpoint === undefined ? {} : { endpoint: init.endpoint }),
      ...(init.once ? { once: true } : {}),
    });
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

  async function envelope(method: string, path: string, init?: RawInit): Promise<Envelope> {
    const response = await raw(method, path, init);
    if (!response.ok) throw await failure(response, method, path);
    const parsed = tryJson(await response.text());
    const where = { method, path, status: response.status };
    if (!parsed.ok) throw responseShapeError({ ...where, problem: "a body that is not JSON" });
    const checked = EnvelopeSchema.safeParse(parsed.value);
    if (!checked.success) throw responseShapeError({ ...where, problem: "JSON that is not a v4 envelope" });
    if (!checked.data.success) {
      throw cloudflareApiError({ ...where, errors: cloudflareErrorsOf(checked.data), attempts: responseInfo(response)?.attempts });
    }
    return { result: checked.data.result, resultInfo: checked.data.result_info, where };
  }

  async function json<T>(method: string, path: string, schema: z.ZodType<T>, init?: RawInit): Promise<T> {
    const answer = await envelope(method, path, init);
    return validate(schema, answer.result, answer.where);
  }

  async function list<T>(path: string, item: z.ZodType<T>, o: { paging: Paging; query?: Query; endpoint?: string }): Promise<T[]> {
    const items = await listPages(
      o.paging,
      o.query ?? {},
      (query) => envelope("GET", path, { query, ...(o.endpoint === undefined ? {} : { endpoint: o.endpoint }) }),
      { method: "GET", path },
    );
    return items.map((value) => validate(item, value, { method: "GET", path }));
  }

  const ctx: ApiContext = { accountId, raw, send, envelope, json, list, failure };
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
