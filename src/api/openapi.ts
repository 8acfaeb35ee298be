// The OpenAPI 3.1 document, generated from the route list and the same zod schemas the routes
// validate with (z.toJSONSchema, JSON Schema 2020-12 as OpenAPI 3.1 uses). Named schemas become
// components; a route's other schemas get a component named after the route.
import * as z from "zod";
import type { RouteDef } from "./route.ts";
import { ErrorBodySchema, NAMED_SCHEMAS } from "../contract/index.ts";

type Json = Record<string, unknown>;

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: "Invalid input (ERR_VALIDATION, details.issues name the path)",
  401: "Missing or invalid bearer token (ERR_UNAUTHORIZED)",
  403: "The token's role or tenant does not allow this (ERR_FORBIDDEN)",
  404: "Unknown worker or release (ERR_NOT_FOUND)",
  409: "Conflicts with current state (ERR_CONFLICT; a stale check-and-set version has details.current_version), or the first request with this Idempotency-Key is still running (ERR_IDEMPOTENCY_IN_FLIGHT: retry with the same key)",
  422: "This Idempotency-Key was used within 24 h for another request (ERR_IDEMPOTENCY_MISMATCH: use a new key)",
  413: "The body is larger than this route takes (ERR_PAYLOAD_TOO_LARGE; details.limit in bytes)",
  421: "The Host header names no host this daemon answers for (ERR_HOST_NOT_ALLOWED)",
  429: "Too many failed authentication attempts from this client or with this token prefix (ERR_RATE_LIMITED); see retry-after. A valid token or signature is never refused by it",
  500: "Internal error (ERR_INTERNAL); the daemon's log has the details. ERR_STORE_CORRUPT: the daemon's database is damaged (restore a backup)",
  507: "Refused, nothing changed: the disk holding the daemon's data is full (ERR_DISK_FULL; details give path, freeBytes and neededBytes). Retry once there is room",
  503: "Refused, nothing changed: the audit log could not record it (ERR_AUDIT_UNAVAILABLE), or Cloudflare (or the local edge) was unavailable or rate limiting until retries ran out",
};

/** `/v1/workers/:name/plan` -> `/v1/workers/{name}/plan` */
export const openApiPath = (honoPath: string) => honoPath.replace(/:([A-Za-z0-9_]+)/g, "{$1}");

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
const upper = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** Converts every schema of a registry at once so that they refer to each other by $ref. */
function components(entries: Array<[string, z.ZodType]>, io: "input" | "output"): Record<string, Json> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of entries) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, {
    io,
    target: "draft-2020-12",
    unrepresentable: "any",
    uri: (id) => `#/components/schemas/${id}`,
  });
  return Object.fromEntries(
    Object.entries(schemas).map(([id, s]) => {
      const { $schema: _s, $id: _i, ...rest } = s as Json;
      return [id, rest];
    }),
  );
}

function parameters(where: "path" | "query", schema: RouteDef["params"]): Json[] {
  if (!schema) return [];
  return Object.entries(schema.shape).map(([name, field]) => {
    const f = field as z.ZodType;
    const { $schema: _s, description, ...json } = z.toJSONSchema(f, { io: "input", unrepresentable: "any" }) as Json;
    return {
      name,
      in: where,
      required: where === "path" || !f.safeParse(undefined).success,
      ...(description ? { description } : {}),
      schema: json,
    };
  });
}

export function buildOpenApi(routes: RouteDef[], info: { title: string; version: string }): Json {
  const named = new Map<z.ZodType, string>(Object.entries(NAMED_SCHEMAS).map(([id, s]) => [s, id]));
  const idOf = (schema: z.ZodType, fallback: string) => named.get(schema) ?? fallback;

  // Request bodies are described as accepted (input), responses as sent (output).
  const outputs = new Map<string, z.ZodType>(Object.entries(NAMED_SCHEMAS).filter(([id]) => !id.endsWith("Body")));
  const inputs = new Map<string, z.ZodType>();
  for (const r of routes) {
    if (r.websocket) outputs.set(idOf(r.websocket.message, `${upper(r.id)}Message`), r.websocket.message);
    else outputs.set(idOf(r.response, `${upper(r.id)}Response`), r.response);
    if (r.body) inputs.set(idOf(r.body, `${upper(r.id)}Body`), r.body);
  }

  const paths: Record<string, Record<string, Json>> = {};
  for (const r of routes) {
    const errors = new Set([500, ...r.errors]);
    // Any write can meet a full disk.
    if (r.method !== "get") errors.add(507);
    if (r.params || r.query || r.body) errors.add(400);
    if (r.body) errors.add(413);
    errors.add(421);
    if (r.role) errors.add(401), errors.add(403), errors.add(429);
    // A mutation takes an Idempotency-Key (idempotency.ts).
    const keyed = r.role !== null && r.method !== "get" && !r.hot;
    if (keyed) errors.add(409), errors.add(422);
    const responses: Record<string, Json> = {};
    if (r.websocket) {
      responses["101"] = {
        description: `Switching Protocols. Each message is one ${idOf(r.websocket.message, "event")} as JSON.`,
        "x-websocket-message": ref(idOf(r.websocket.message, `${upper(r.id)}Message`)),
      };
    } else {
      responses[String(r.status)] = {
        description: r.status === 202 ? "Accepted: the work continues in the background" : "OK",
        content: { [r.contentType ?? "application/json"]: { schema: ref(idOf(r.response, `${upper(r.id)}Response`)) } },
      };
    }
    for (const status of [...errors].sort()) {
      responses[String(status)] = {
        description: ERROR_DESCRIPTIONS[status] ?? "Error",
        content: { "application/json": { schema: ref(named.get(ErrorBodySchema)!) } },
      };
    }
    const op: Json = {
      operationId: r.id,
      summary: r.summary,
      ...(r.websocket ? { description: r.websocket.description } : {}),
      security: r.role ? [{ bearer: [] }] : [],
      ...(r.role ? { "x-required-role": r.role } : {}),
      parameters: [
        ...parameters("path", r.params),
        ...parameters("query", r.query),
        ...(keyed
          ? [
              {
                name: "Idempotency-Key",
                in: "header",
                required: false,
                description:
                  "A value unique to this operation (e.g. a UUID), the same on its retries: the first answer is kept for 24 h and " +
                  "replayed (header `idempotent-replayed: true`) instead of doing it again. Another request under the key is 422, " +
                  "one still running 409. Answers holding a secret shown once (a new token) are not kept: their replay is 409",
                schema: { type: "string", minLength: 1, maxLength: 255, pattern: "^[\\x21-\\x7e]+$" },
              },
            ]
          : []),
        ...(r.signatureHeader
          ? [
              {
                name: r.signatureHeader,
                in: "header",
                required: true,
                description:
                  "`t=<unix seconds>,v1=<hex HMAC-SHA256 over t.body>` with the per-Worker key; 300 s window, each message accepted once",
                schema: { type: "string" },
              },
            ]
          : []),
      ],
      ...(r.body
        ? {
            requestBody: {
              required: !r.body.safeParse({}).success,
              content: { "application/json": { schema: ref(idOf(r.body, `${upper(r.id)}Body`)) } },
            },
          }
        : {}),
      responses,
    };
    (paths[openApiPath(r.path)] ??= {})[r.method] = op;
  }

  return {
    openapi: "3.1.0",
    info: {
      ...info,
      description:
        "The orchestrator daemon's API. Bearer tokens carry a role: admin > deployer > viewer (agent acts as deployer). " +
        'Errors are `{"error": {"code", "message", "details"}}`.',
    },
    servers: [{ url: "/" }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "An API token (cbo_<role>_…), shown once when created" } },
      schemas: { ...components([...outputs], "output"), ...components([...inputs], "input") },
    },
  };
}
