// Cloudflare failures as CboErrors: our code from the HTTP status, Cloudflare's own codes (which is
// what callers branch on, e.g. 10215 or 10007) in `details.cloudflareErrors`.
import * as z from "zod";
import { CboError, type ErrorCode } from "../kit/errors.ts";

export type CloudflareErrorItem = { code: number; message: string };

export type RequestContext = { method: string; path: string; attempts?: number };

const ErrorItemSchema = z.looseObject({
  code: z.union([z.number(), z.string()]).optional(),
  message: z.string().optional(),
});
const FailedEnvelopeSchema = z.looseObject({ errors: z.array(z.unknown()).nullish() });

// Hints for the codes callers meet most; the rest speak for themselves.
const HINTS: Record<number, string> = {
  10007: "The Worker (or a resource it names) does not exist in this account.",
  10214: "The latest version is not the one deployed at 100%: deploy it first, then change secrets.",
  10215: "The latest version is not the one deployed at 100%: deploy it first, then change secrets.",
  10220: "Secrets changed since that version; repeat the deployment with force to go ahead.",
  10061:
    "The Worker binds a Durable Object class of its own that no migration created: upload it with a migration (new_sqlite_classes) on a script PUT.",
  10211: "A version upload cannot carry a Durable Object migration: apply migrations with a script PUT (a non-versioned deploy).",
  10057: "An inherit binding names nothing in the previous version: send the binding in full.",
  7404: "The D1 database does not exist in this account.",
  7502: "A D1 database with that name already exists in this account.",
  10006: "The R2 bucket does not exist in this account (and jurisdiction).",
  10073: "An R2 bucket with that name already exists in this account (and jurisdiction).",
  10008: "The R2 bucket still holds objects: empty it before deleting it.",
};

const UNAVAILABLE_HINT =
  "Cloudflare's API (on the local edge: that region) did not serve it, retries included; try again once it answers (`cbo status` shows which targets do).";

/** Our code for a failed HTTP status. */
export function codeForStatus(status: number | undefined): ErrorCode {
  if (status === 429) return "ERR_CF_RATE_LIMITED";
  if (status === undefined || status >= 500) return "ERR_CF_UNAVAILABLE";
  return "ERR_CF_REQUEST";
}

/** The `errors` of a failed envelope, tolerating odd shapes (string codes, missing messages). */
export function cloudflareErrorsOf(body: unknown): CloudflareErrorItem[] {
  const envelope = FailedEnvelopeSchema.safeParse(body);
  if (!envelope.success || !envelope.data.errors) return [];
  return envelope.data.errors.flatMap((raw) => {
    const item = ErrorItemSchema.safeParse(raw);
    if (!item.success) return [];
    const code = Number(item.data.code ?? 0);
    return [{ code: Number.isFinite(code) ? code : 0, message: item.data.message ?? "" }];
  });
}

/** A failed API answer (non-2xx status, or `success: false`) as a CboError. */
export function cloudflareApiError(
  args: RequestContext & { status: number | undefined; errors: CloudflareErrorItem[]; bodySnippet?: string },
): CboError {
  const { status, method, path, errors } = args;
  const first = errors[0];
  const where = `${method} ${path}${status === undefined ? "" : `, HTTP ${status}`}`;
  const message = first ? `Cloudflare API error ${first.code}: ${first.message} (${where})` : `Cloudflare API request failed (${where})`;
  const code = codeForStatus(status);
  // An API that is down (5xx, after the retries) has no fix of its own: say what to do meanwhile.
  const hint = (first ? HINTS[first.code] : undefined) ?? (code === "ERR_CF_UNAVAILABLE" ? UNAVAILABLE_HINT : undefined);
  return new CboError(code, message, {
    details: {
      status,
      method,
      path,
      cloudflareErrors: errors,
      ...(args.attempts === undefined ? {} : { attempts: args.attempts }),
      ...(args.bodySnippet === undefined ? {} : { body: args.bodySnippet }),
    },
    ...(hint === undefined ? {} : { hint }),
  });
}

/** A 2xx answer we cannot use: not JSON, or not the documented shape. */
export function responseShapeError(context: RequestContext & { problem: string; status?: number }): CboError {
  return new CboError("ERR_CF_RESPONSE", `Cloudflare API answered ${context.method} ${context.path} with ${context.problem}`, {
    details: { ...context },
  });
}
