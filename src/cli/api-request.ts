// One JSON request to the daemon, for every command. A body that is not JSON is never kept as an
// error's cause, and schema failures name types, not values: the answer may hold a secret value.
import type * as z from "zod";
import { CboError } from "../kit/errors.ts";
import { daemonDown, errorFromResponse } from "./api-errors.ts";
import { discoverDaemon, type DaemonFlags } from "./discover.ts";

export type Connection = { url: string; token: string | undefined; timeoutMs?: number };

export function connectTo(flags: DaemonFlags): Connection {
  const { url, token } = discoverDaemon(flags);
  return { url, token };
}

export async function requestJson<S extends z.ZodType>(conn: Connection, method: string, path: string, schema: S, body?: unknown): Promise<z.infer<S>> {
  const base = conn.url.replace(/\/+$/, "");
  const timeoutMs = conn.timeoutMs ?? 30_000;
  const headers: Record<string, string> = { accept: "application/json" };
  if (conn.token) headers["authorization"] = `Bearer ${conn.token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  let res: Response;
  try {
    res = await fetch(base + path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }), signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    if ((e as Error).name === "TimeoutError") {
      throw new CboError("ERR_IO", `The daemon at ${base} did not answer ${method} ${path} within ${timeoutMs / 1000} s.`, { cause: e });
    }
    throw daemonDown(base, e);
  }
  const text = await res.text();
  if (!res.ok) throw errorFromResponse(res.status, text);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // No cause: the text may be a secret value (GET …/value) and causes print with --debug.
    throw new CboError("ERR_INTERNAL", `The daemon answered ${method} ${path} with something that is not JSON.`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    // Only the path and zod's message (which names types, not values) of the first issue.
    const issue = parsed.error.issues[0];
    throw new CboError("ERR_INTERNAL", `The daemon's answer to ${method} ${path} has an unexpected shape (at ${issue?.path.join(".") || "the top"}: ${issue?.code ?? "invalid"}).`, {
      hint: "are the cbo CLI and the daemon the same version?",
    });
  }
  return parsed.data;
}

/** "?a=1&b=x" from the defined entries, "" when there are none. */
export function query(params: Record<string, string | number | undefined>): string {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) qs.set(k, String(v));
  const s = qs.toString();
  return s ? `?${s}` : "";
}
