// The rule lists the R2 REST API stores per bucket (CORS, lifecycle, bucket lock), in the shapes
// wrangler sends (workers-sdk packages/wrangler/src/r2/helpers/bucket.ts: CORSRule, LifecycleRule,
// BucketLockRule). Checked here, at the boundary, so a malformed list is a 400 naming the field
// and never stored. Objects are strict: an S3-style file (AllowedOrigins, CORSRules) or a typo is
// refused by name rather than stored as an empty rule.
import { z } from "zod";
import { CF_CODES, CfApiError } from "./envelope.ts";

/** The methods an R2 CORS rule may allow (R2's CORS docs). */
export const CORS_METHODS = ["GET", "PUT", "POST", "DELETE", "HEAD"] as const;
/** Cloudflare caps a bucket's lifecycle rules at 1000 (R2 limits); we apply it to every list. */
const MAX_RULES = 1000;

const isoDate = z.string().refine((s) => !Number.isNaN(Date.parse(s)), "must be an ISO 8601 date such as 2026-12-31T00:00:00Z");
const ruleId = z.string().min(1, "must be a non-empty string");
const ageSeconds = z.number().int("must be a whole number of seconds").positive("must be a positive number of seconds");

const corsRule = z
  .object({
    id: ruleId.optional(),
    allowed: z
      .object({
        origins: z.array(z.string().min(1)).min(1, "must list at least one origin"),
        methods: z.array(z.enum(CORS_METHODS)).min(1, "must list at least one method"),
        headers: z.array(z.string().min(1)).optional(),
      })
      .strict(),
    exposeHeaders: z.array(z.string().min(1)).optional(),
    maxAgeSeconds: z.number().int().min(0, "must be 0 or more seconds").optional(),
  })
  .strict();

const lifecycleAge = z.object({ type: z.literal("Age"), maxAge: ageSeconds }).strict();
const lifecycleCondition = z.discriminatedUnion("type", [lifecycleAge, z.object({ type: z.literal("Date"), date: isoDate }).strict()]);
const lifecycleRule = z
  .object({
    id: ruleId,
    enabled: z.boolean(),
    conditions: z.object({ prefix: z.string().optional() }).strict(),
    deleteObjectsTransition: z.object({ condition: lifecycleCondition }).strict().optional(),
    storageClassTransitions: z
      .array(z.object({ condition: lifecycleCondition, storageClass: z.literal("InfrequentAccess") }).strict())
      .optional(),
    // Incomplete uploads are aborted by age only: they have no date to reach.
    abortMultipartUploadsTransition: z.object({ condition: lifecycleAge }).strict().optional(),
  })
  .strict();

const lockRule = z
  .object({
    id: ruleId,
    enabled: z.boolean(),
    prefix: z.string().optional(),
    condition: z.discriminatedUnion("type", [
      z.object({ type: z.literal("Age"), maxAgeSeconds: ageSeconds }).strict(),
      z.object({ type: z.literal("Date"), date: isoDate }).strict(),
      z.object({ type: z.literal("Indefinite") }).strict(),
    ]),
  })
  .strict();

/** `{rules: [...]}` with at most MAX_RULES rules whose ids (where given) are distinct. */
function ruleList<T extends z.ZodType<{ id?: string | undefined }>>(rule: T) {
  return z
    .object({
      rules: z
        .array(rule)
        .max(MAX_RULES, `must hold at most ${MAX_RULES} rules`)
        .superRefine((rules, ctx) => {
          const seen = new Set<string>();
          rules.forEach((r, i) => {
            if (r.id === undefined) return;
            if (seen.has(r.id))
              ctx.addIssue({ code: "custom", path: [i, "id"], message: `"${r.id}" is used by an earlier rule; rule ids must be unique` });
            seen.add(r.id);
          });
        }),
    })
    .strict();
}

const SCHEMAS = { cors: ruleList(corsRule), lifecycle: ruleList(lifecycleRule), lock: ruleList(lockRule) };

/** The body's rules, checked against `kind`'s schema; the first problem is a 400 (10040) naming its field. */
export function parseBucketRules(kind: keyof typeof SCHEMAS, body: unknown): unknown[] {
  const parsed = SCHEMAS[kind].safeParse(body);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    const where = i.path
      .map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`))
      .join("")
      .replace(/^\./, "");
    throw new CfApiError(400, CF_CODES.R2_BAD_REQUEST, `Invalid ${kind} configuration: ${where || "body"}: ${i.message}.`);
  }
  return parsed.data.rules;
}
