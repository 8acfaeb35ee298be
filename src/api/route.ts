// One route = one plain object: method, path, role, the zod schemas of its inputs and output, and
// a handler. app.ts turns the list into Hono routes (auth, parsing, errors) and openapi.ts into the
// OpenAPI document, so a route cannot exist in one and not the other.
import type * as z from "zod";
import type { Role } from "../store/index.ts";
import type { Principal } from "./types.ts";

type Obj = z.ZodObject<z.ZodRawShape>;
type Method = "get" | "post" | "put" | "delete";

/**
 * A mutation's audit action. The success entry is written by the change itself (inside its
 * transaction, or before it starts); app.ts records a failed attempt with `action` and `target`.
 */
export type RouteAudit<I> = { action: string; target?: (input: I) => string };
type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

export type RouteInput<P, Q, B> = {
  params: P;
  query: Q;
  body: B;
  /** null only on routes without a role (public). */
  principal: Principal | null;
  /** The tenant the request acts in (the spec's). */
  tenant: string;
  /** On `signed` routes: the body exactly as sent and its signature header (HMAC covers the bytes). */
  signed?: { raw: string; signature: string | undefined };
  /** The client's address (client-address.ts), worked out when asked; undefined in-process. */
  client(): string | undefined;
  /** Aborted when the client goes away before its answer (disconnect, its own timeout). */
  signal?: AbortSignal | undefined;
};

export type RouteDef = {
  /** OpenAPI operationId. */
  id: string;
  method: Method;
  /** Hono syntax: `/v1/workers/:name/versions`. */
  path: string;
  summary: string;
  /** Lowest role allowed; null = no token needed. */
  role: Role | null;
  params?: Obj;
  query?: Obj;
  body?: z.ZodType;
  /** Success status. */
  status: 200 | 202;
  response: z.ZodType;
  /** Error statuses this route answers besides 400 (bad input), 401/403 (role) and 500. */
  errors: number[];
  /** A WebSocket endpoint: served by the upgrade handler; the HTTP route only explains that. */
  websocket?: { message: z.ZodType; description: string };
  /** The handler returns text of this type instead of a JSON value. */
  contentType?: string;
  /**
   * With contentType: the handler returns a ReadableStream of that type's bytes, sent as it is
   * read (the response schema still describes the whole body, for the OpenAPI document).
   */
  stream?: boolean;
  /** Authenticated by a signature over the raw body (header `signatureHeader`) instead of a token. */
  signatureHeader?: string;
  /** A high-rate, token-less signed route: served ahead of the general middleware (app.ts). */
  hot?: boolean;
  /** The largest body it takes (bytes, counted while it streams in); default DEFAULT_MAX_BODY_BYTES (64 KiB). */
  maxBodyBytes?: number;
  /** Its answer holds a secret shown once (a new token): never kept for an Idempotency-Key replay. */
  answerHoldsSecret?: boolean;
  audit?: RouteAudit<RouteInput<unknown, unknown, unknown>>;
  handle(input: RouteInput<unknown, unknown, unknown>): unknown;
};

/** Types the handler from the schemas; the result is an untyped RouteDef for the route list. */
export function route<
  R extends z.ZodType,
  P extends Obj | undefined = undefined,
  Q extends Obj | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
>(def: {
  id: string;
  method: Method;
  path: string;
  summary: string;
  role: Role | null;
  params?: P;
  query?: Q;
  body?: B;
  status?: 200 | 202;
  response: R;
  errors?: number[];
  websocket?: { message: z.ZodType; description: string };
  contentType?: string;
  stream?: boolean;
  signatureHeader?: string;
  hot?: boolean;
  maxBodyBytes?: number;
  answerHoldsSecret?: boolean;
  audit?: RouteAudit<RouteInput<Out<P>, Out<Q>, Out<B>>>;
  handle(
    input: RouteInput<Out<P>, Out<Q>, Out<B>>,
  ): Promise<z.input<R> | ReadableStream<Uint8Array>> | z.input<R> | ReadableStream<Uint8Array>;
}): RouteDef {
  const { audit, handle, ...rest } = def;
  return {
    ...rest,
    status: def.status ?? 200,
    errors: def.errors ?? [],
    handle: handle as RouteDef["handle"],
    ...(audit ? { audit: audit as unknown as RouteDef["audit"] } : {}),
  };
}
