// The bindings of an upload's metadata, checked one by one against the shape wrangler sends for
// each kind (CLOUDFLARE-API-FLEET §7). A bad binding fails the upload with 10021 and the binding's
// name, as Cloudflare's own validation does; references to resources are checked in operations.ts.
import { z } from "zod";
import { CF_CODES, CfApiError } from "./envelope.ts";
import type { Binding } from "../state/model.ts";
import { SERVICE_WORKER_ONLY_KINDS, UNAVAILABLE_KINDS } from "../workers/binding-kinds.ts";
import { checkScriptName } from "./limits.ts";

const str = z.string().min(1);
const loose = <T extends z.ZodRawShape>(shape: T) => z.object(shape).passthrough();

const SHAPES: Record<string, z.ZodType> = {
  plain_text: loose({ text: z.string() }),
  json: loose({ json: z.unknown() }).refine((b) => "json" in b, { message: 'needs "json"' }),
  secret_text: loose({ text: z.string() }),
  secret_key: loose({ format: str, algorithm: z.unknown(), usages: z.array(z.string()) }),
  kv_namespace: loose({ namespace_id: str }),
  service: loose({
    service: str,
    environment: str.optional(),
    entrypoint: str.optional(),
    props: z.record(z.string(), z.unknown()).optional(),
  }),
  d1: loose({ id: str }),
  r2_bucket: loose({ bucket_name: str, jurisdiction: z.enum(["eu", "fedramp"]).optional() }),
  queue: loose({ queue_name: str, delivery_delay: z.number().int().min(0).max(86_400).optional() }),
  durable_object_namespace: loose({
    class_name: str,
    script_name: str.optional(),
    environment: str.optional(),
    namespace_id: str.optional(),
  }),
  analytics_engine: loose({ dataset: str.optional() }),
  ai: loose({ staging: z.boolean().optional() }),
  browser: loose({}),
  hyperdrive: loose({ id: str }),
  vectorize: loose({ index_name: str }),
  ratelimit: loose({
    namespace_id: str,
    simple: z.object({ limit: z.number().int().positive(), period: z.union([z.literal(10), z.literal(60)]) }).passthrough(),
  }),
  secrets_store_secret: loose({ store_id: str, secret_name: str }),
  workflow: loose({ workflow_name: str, class_name: str, script_name: str.optional() }),
  dispatch_namespace: loose({ namespace: str, outbound: z.unknown().optional() }),
  version_metadata: loose({}),
  assets: loose({}),
  mtls_certificate: loose({ certificate_id: str }),
  send_email: loose({
    destination_address: str.optional(),
    allowed_destination_addresses: z.array(z.string()).optional(),
    allowed_sender_addresses: z.array(z.string()).optional(),
  }),
  pipelines: loose({ stream: str.optional(), pipeline: str.optional() }).refine((b) => b.stream !== undefined || b.pipeline !== undefined, {
    message: 'needs "stream" or "pipeline"',
  }),
  worker_loader: loose({}),
  images: loose({}),
  stream: loose({}),
  media: loose({}),
  vpc_service: loose({ service_id: str }),
  vpc_network: loose({ tunnel_id: str.optional(), network_id: str.optional() }),
};

export const KNOWN_BINDING_KINDS = Object.keys(SHAPES);

const invalid = (message: string) => new CfApiError(400, CF_CODES.SCRIPT_INVALID, message);

/**
 * The most a var (plain_text) or a secret (secret_text) may hold, in UTF-8 bytes: Cloudflare's limits
 * page says "Environment variables: 5 KB per variable", secrets the same. Refused with 10054 and the
 * API's own key (workers.api.error.text_binding_too_large) ahead of our explanation; see envelope.ts.
 */
export const MAX_TEXT_BINDING_BYTES = 5 * 1024;

/** Throws 10021 for the first binding that is not of a known kind in its known shape. */
export function checkBindings(bindings: Binding[]): void {
  const seen = new Set<string>();
  for (const b of bindings) {
    if (seen.has(b.name)) throw invalid(`Binding name "${b.name}" is used twice.`);
    seen.add(b.name);
    if (SERVICE_WORKER_ONLY_KINDS.has(b.type)) {
      throw invalid(
        `Binding "${b.name}" has type "${b.type}", which only service-worker uploads may use; an ES module Worker imports the file as a module part instead.`,
      );
    }
    // Cloudflare's own wording, which wrangler recognises and explains.
    if (b.type === "d1" && (typeof b.id !== "string" || b.id === ""))
      throw invalid(`binding ${b.name} of type d1 must have a valid \`id\` specified`);
    const shape = SHAPES[b.type];
    if (!shape) throw invalid(`Binding "${b.name}" has unknown type "${b.type}" (known: ${KNOWN_BINDING_KINDS.join(", ")}).`);
    const parsed = shape.safeParse(b);
    if (!parsed.success) {
      const i = parsed.error.issues[0]!;
      const where = i.path.length ? `"${i.path.join(".")}"` : "it";
      throw invalid(`Binding "${b.name}" (${b.type}) is not valid: ${where} ${i.message}.`);
    }
    // The size only, never the value: a secret must not come back in an error.
    if ((b.type === "plain_text" || b.type === "secret_text") && typeof b.text === "string") {
      const bytes = Buffer.byteLength(b.text, "utf8");
      if (bytes > MAX_TEXT_BINDING_BYTES)
        throw new CfApiError(
          400,
          CF_CODES.TEXT_BINDING_TOO_LARGE,
          `workers.api.error.text_binding_too_large: Binding "${b.name}" (${b.type}) is ${bytes} bytes; an environment variable or secret may be at most 5 KiB (${MAX_TEXT_BINDING_BYTES} bytes). Keep a larger value in KV, R2 or D1 and bind that instead.`,
        );
    }
    if (b.type === "service") {
      try {
        checkScriptName(b.service as string);
      } catch {
        throw invalid(`Binding "${b.name}" (service) names "${String(b.service)}", which is not a valid Worker name.`);
      }
    }
  }
}

/** Kinds that upload fine but whose use inside the Worker throws (see binding-kinds.ts). */
export const isUnavailableKind = (type: string) => type in UNAVAILABLE_KINDS;
