// JSON the local edge reads (request bodies, upload metadata, stored KV values asked for as JSON):
// anything that is not JSON, or nests deeper than the edge can serialise again, is a 400 in
// Cloudflare's envelope, never a 500 from a stack overflow further on.
import type { Context } from "hono";
import { badRequest, CF_CODES, CfApiError } from "./envelope.ts";
import { LIMITS } from "./limits.ts";

/** Does `value` nest deeper than `limit` arrays or objects? Iterative: a deep value cannot overflow the stack here. */
export function deeperThan(value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    if (depth > limit) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v))
      if (child !== null && typeof child === "object") stack.push([child, depth + 1]);
  }
  return false;
}

/**
 * JSON.parse with Cloudflare's answers for bad input: not JSON, or nested deeper than the edge
 * serialises safely, is a 400 with `code` (never a 500 from a stack overflow later on).
 */
export function parseJson(text: string, what: string, code: number = CF_CODES.BAD_REQUEST): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CfApiError(400, code, `${what} is not valid JSON.`);
  }
  if (deeperThan(value, LIMITS.jsonDepth))
    throw new CfApiError(400, code, `${what} nests arrays or objects deeper than ${LIMITS.jsonDepth} levels.`);
  return value;
}

/** The request's JSON body; empty, malformed or too deep is 400 (code 10001). */
export async function readJson(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === "") throw badRequest("Request body is empty; a JSON body is required.");
  return parseJson(text, "Request body");
}

/** The request's JSON body when it must be an object (`null`, arrays and scalars are 400). */
export async function readJsonObject(c: Context): Promise<Record<string, unknown>> {
  const body = await readJson(c);
  if (body === null || typeof body !== "object" || Array.isArray(body)) throw badRequest("Request body must be a JSON object.");
  return body as Record<string, unknown>;
}
