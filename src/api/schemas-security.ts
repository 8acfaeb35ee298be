// Request and response bodies of the secrets, tokens, audit and key routes. A secret value appears
// in exactly two of them: PutSecretBody (in) and SecretValue (out, admin only).
import * as z from "zod";
import { AuditCheckpointSchema, AuditEntrySchema } from "../audit/index.ts";
import { ROLES } from "../store/tokens.ts";
import { JurisdictionSchema, SecretNameSchema } from "../vault/names.ts";
import { MODES } from "../vault/index.ts";

export { AuditCheckpointSchema };

/** An audit entry as the API sends it (details as plain JSON: the audit's recursive schema has no OpenAPI form). */
export const AuditEntryResponseSchema = AuditEntrySchema.extend({ details: z.record(z.string(), z.unknown()) });

const Version = z.number().int().min(1);
const Cas = z.number().int().min(0).describe("Check-and-set: the current version you expect (0: the secret must not exist yet); a stale one is 409");
const QueryInt = (min: number) => z.coerce.number().int().min(min);
const Encoding = z.enum(["utf8", "base64"]);
const Tenant = z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, "lowercase letters, digits and dashes, starting with a letter");

// --- secrets --------------------------------------------------------------------------------------

export const SecretParamsSchema = z.object({ name: SecretNameSchema.describe("Secret name") });

export const PutSecretBodySchema = z
  .object({
    value: z.string().min(1).describe("The value: UTF-8 text, or base64 when encoding is base64. Never returned by this call"),
    encoding: Encoding.optional().describe("How `value` is written (default utf8)"),
    cas: Cas.optional(),
    mode: z.enum(MODES).optional().describe("binding: pushed to Workers as a secret; relay: fetched at run time (default relay, or the secret's current mode)"),
    jurisdictions: z.array(JurisdictionSchema).max(16).optional().describe("Only targets in these jurisdictions may receive it, e.g. [\"eu\"]"),
  })
  .strict();

export const SecretValueQuerySchema = z.object({
  version: QueryInt(1).optional().describe("Default: the current version"),
  encoding: Encoding.optional().describe("Default: utf8 when the value is valid UTF-8, else base64"),
});
export const RollbackSecretBodySchema = z.object({ to: Version.describe("The version whose value becomes a new current version"), cas: Cas.optional() }).strict();
export const DeleteSecretQuerySchema = z.object({ cas: QueryInt(0).optional().describe("Check-and-set: the current version you expect") });
export const DestroySecretBodySchema = z.object({ versions: z.array(Version).min(1).optional().describe("Default: every kept version") }).strict();

export const SecretSchema = z.object({
  name: z.string(),
  version: z.number().int(),
  mode: z.enum(MODES),
  jurisdictions: z.array(z.string()),
  deleted: z.boolean(),
  updatedAt: z.string(),
});
export const SecretVersionSchema = z.object({ version: z.number().int(), createdAt: z.string(), createdBy: z.string().nullable(), destroyed: z.boolean() });
export const SecretWrittenSchema = z.object({ name: z.string(), version: z.number().int() });
export const SecretValueSchema = z.object({ name: z.string(), version: z.number().int(), value: z.string(), encoding: Encoding });

// --- tokens ---------------------------------------------------------------------------------------

export const TokenParamsSchema = z.object({ id: z.string().min(1).max(100).describe("Token id") });
export const CreateTokenBodySchema = z
  .object({
    name: z
      .string()
      .min(1)
      .max(100)
      .refine((n) => !/cbo_(admin|deployer|viewer|agent)_/.test(n), "a token's name must not look like a token")
      .describe("Who or what uses it, e.g. ci"),
    role: z.enum(ROLES),
    tenant: Tenant.nullish().describe("Scope the token to one tenant (default: the caller's scope; none for an unscoped admin)"),
    expiresAt: z.string().datetime({ offset: true }).nullish().describe("ISO 8601; default: never"),
  })
  .strict();
export const TokenSchema = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  tenant: z.string().nullable(),
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});
export const CreatedTokenSchema = TokenSchema.omit({ revokedAt: true }).extend({ token: z.string().describe("The token, shown this once; only its hash is stored") });

// --- audit ----------------------------------------------------------------------------------------

export const AuditQuerySchema = z.object({
  limit: QueryInt(1).max(10_000).optional().describe("At most this many (default 100)"),
  actor: z.string().min(1).optional(),
  action: z.string().min(1).optional().describe('Exact, or a prefix ending in "*": secret.*'),
  target: z.string().min(1).optional(),
  outcome: z.enum(["ok", "denied", "error"]).optional(),
  since: z.string().datetime({ offset: true }).optional(),
  until: z.string().datetime({ offset: true }).optional(),
  text: z.string().min(1).max(200).optional().describe("Case-insensitive substring of actor, action, target or details"),
  beforeSeq: QueryInt(1).optional().describe("Only entries older than this seq (paging backwards)"),
});
export const AuditExportQuerySchema = z.object({
  include: z.enum(["all", "checkpoints"]).optional().describe("all (default): entries and checkpoints; checkpoints: the small file to keep off the VPS"),
});
export const AuditVerifySchema = z.object({
  ok: z.boolean(),
  checked: z.number().int(),
  checkpoints: z.number().int(),
  head: z.object({ seq: z.number().int(), hash: z.string() }),
  firstBad: z
    .object({
      seq: z.number().int(),
      reason: z.string(),
      message: z.string(),
      checkpoint: z.number().int().optional(),
      range: z.tuple([z.number().int(), z.number().int()]).optional(),
    })
    .optional(),
});

export const OrchestratorKeySchema = z.object({
  keyId: z.string().describe("The key_id audit checkpoints carry"),
  publicKey: z.string().describe("Raw 32-byte Ed25519 public key, base64url"),
  jwk: z.object({ kty: z.literal("OKP"), crv: z.literal("Ed25519"), x: z.string(), kid: z.string(), alg: z.literal("EdDSA"), use: z.literal("sig") }),
});

/** Named in the OpenAPI document's components. */
export const SECURITY_SCHEMAS: Record<string, z.ZodType> = {
  Secret: SecretSchema,
  SecretVersion: SecretVersionSchema,
  SecretValue: SecretValueSchema,
  Token: TokenSchema,
  CreatedToken: CreatedTokenSchema,
  AuditEntry: AuditEntryResponseSchema,
  AuditCheckpoint: AuditCheckpointSchema,
  AuditVerifyResult: AuditVerifySchema,
  OrchestratorKey: OrchestratorKeySchema,
  PutSecretBody: PutSecretBodySchema,
  RollbackSecretBody: RollbackSecretBodySchema,
  DestroySecretBody: DestroySecretBodySchema,
  CreateTokenBody: CreateTokenBodySchema,
};
