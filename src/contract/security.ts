// Secrets, tokens, per-Worker keys and the master key on the wire. A secret value appears in
// exactly two shapes: PutSecretBody (in) and SecretValue (out, admin only); no list carries one,
// and no key material is ever sent (worker keys are versions only).
import * as z from "zod";
import { lineOfText } from "./line-of-text.ts";
import { ROLES, SECRET_MODES } from "./statuses.ts";
import { ReleaseSchema } from "./releases.ts";

/** Letters, digits, `_`, `.`, `-`; a `binding` secret must also be a Workers binding name (the vault checks that). */
export const SecretNameSchema = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/, "use letters, digits, _ . or -, starting with a letter or _ (at most 128)");
/** A data-sovereignty tag, e.g. `eu`. */
export const JurisdictionSchema = z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, "a jurisdiction tag is lowercase, e.g. eu");

const Version = z.number().int().min(1);
const Cas = z
  .number()
  .int()
  .min(0)
  .describe("Check-and-set: the current version you expect (0: the secret must not exist yet); a stale one is 409");
const QueryInt = (min: number) => z.coerce.number().int().min(min);
const Encoding = z.enum(["utf8", "base64"]);
const Tenant = z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, "lowercase letters, digits and dashes, starting with a letter");
const WorkerName = z.string().regex(/^[a-z][a-z0-9-]{0,62}$/);

// --- secrets --------------------------------------------------------------------------------------

/** The most a secret value may hold (Cloudflare caps a Workers secret at 5 KiB; relay values may be larger, within reason). */
export const MAX_SECRET_VALUE_BYTES = 64 * 1024;

export const SecretParamsSchema = z.object({ name: SecretNameSchema.describe("Secret name") });

export const PutSecretBodySchema = z
  .object({
    value: z.string().min(1).describe("The value: UTF-8 text, or base64 when encoding is base64. Never returned by this call"),
    encoding: Encoding.optional().describe("How `value` is written (default utf8)"),
    cas: Cas.optional(),
    mode: z
      .enum(SECRET_MODES)
      .optional()
      .describe("binding: pushed to Workers as a secret; relay: fetched at run time (default relay, or the secret's current mode)"),
    jurisdictions: z
      .array(JurisdictionSchema)
      .max(16)
      .optional()
      .describe('Only targets in these jurisdictions may receive it, e.g. ["eu"]'),
  })
  .strict();
export type PutSecretBody = z.input<typeof PutSecretBodySchema>;

export const SecretValueQuerySchema = z.object({
  version: QueryInt(1).optional().describe("Default: the current version"),
  encoding: Encoding.optional().describe("Default: utf8 when the value is valid UTF-8, else base64"),
});
export const RollbackSecretBodySchema = z
  .object({ to: Version.describe("The version whose value becomes a new current version"), cas: Cas.optional() })
  .strict();
export const DeleteSecretQuerySchema = z.object({ cas: QueryInt(0).optional().describe("Check-and-set: the current version you expect") });
export const DestroySecretBodySchema = z
  .object({ versions: z.array(Version).min(1).optional().describe("Default: every kept version") })
  .strict();

export const SecretSchema = z.object({
  name: z.string(),
  version: z.number().int(),
  mode: z.enum(SECRET_MODES),
  jurisdictions: z.array(z.string()),
  deleted: z.boolean(),
  updatedAt: z.string(),
});
export type Secret = z.output<typeof SecretSchema>;
export const SecretVersionSchema = z.object({
  version: z.number().int(),
  createdAt: z.string(),
  createdBy: z.string().nullable().describe("The name of the token that wrote it"),
  createdByToken: z.string().nullable().describe("That token's id (two tokens may share a name); null when not a token"),
  destroyed: z.boolean(),
});
export type SecretVersion = z.output<typeof SecretVersionSchema>;
export const SecretWrittenSchema = z.object({
  name: z.string(),
  version: z.number().int(),
  warnings: z
    .array(z.string())
    .optional()
    .describe("What the write may not do as meant: a jurisdiction no target has (the secret is written all the same)"),
});
export const SecretValueSchema = z.object({ name: z.string(), version: z.number().int(), value: z.string(), encoding: Encoding });
export const SecretDeletedSchema = z.object({ name: z.string(), deleted: z.literal(true) });
export const SecretUndeletedSchema = z.object({ name: z.string(), deleted: z.literal(false) });
export const SecretDestroyedSchema = z.object({ name: z.string(), destroyed: z.array(z.number().int()) });
/** POST /v1/secrets/:name/deliver: the releases started, one per worker that lists the secret. */
export const DeliverySchema = z.object({
  name: z.string(),
  version: z.number().int(),
  releases: z.array(z.object({ worker: z.string(), releaseId: z.string() })),
});

// --- tokens ---------------------------------------------------------------------------------------

export const TokenParamsSchema = z.object({ id: z.string().min(1).max(100).describe("Token id") });
export const CreateTokenBodySchema = z
  .object({
    name: lineOfText(100)
      .refine((n) => !/cbo_(admin|deployer|viewer|agent|metrics)_/.test(n), "a token's name must not look like a token")
      .describe("Who or what uses it, e.g. ci"),
    role: z.enum(ROLES),
    tenant: Tenant.nullish().describe("Scope the token to one tenant (default: the caller's scope; none for an unscoped admin)"),
    expiresAt: z.string().datetime({ offset: true }).nullish().describe("ISO 8601; default: never"),
  })
  .strict();
export type CreateTokenBody = z.input<typeof CreateTokenBodySchema>;
export const TokenSchema = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  tenant: z.string().nullable(),
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});
export type Token = z.output<typeof TokenSchema>;
export const CreatedTokenSchema = TokenSchema.omit({ revokedAt: true }).extend({
  token: z.string().describe("The token, shown this once; only its hash is stored"),
});
export const TokenRevokedSchema = z.object({ id: z.string(), revoked: z.literal(true) });

// --- per-Worker keys and the master key -------------------------------------------------------------

/** A Worker's keys on one target: the version it ships and the versions that verify (never a key). */
export const WorkerKeySchema = z.object({
  worker: z.string(),
  target: z.string(),
  current: z.number().int(),
  accepted: z.array(z.number().int()),
  updatedAt: z.string(),
});
export type WorkerKey = z.output<typeof WorkerKeySchema>;
export const WorkerKeyParamsSchema = z.object({ worker: WorkerName });
export const RotateWorkerKeyBodySchema = z
  .object({
    target: WorkerName.optional().describe("Only this target (default: every target with a key)"),
    release: z
      .boolean()
      .default(true)
      .describe("Start the release that ships the new keys now (false: the next release ships them; both keys verify until then)"),
  })
  .strict();
export const KeyRotationSchema = z.object({ keys: z.array(WorkerKeySchema), release: ReleaseSchema.nullable() });

export const RotateMasterKeyBodySchema = z.object({}).strict();
export const MasterKeyRotationSchema = z.object({
  fromKeyId: z.string(),
  toKeyId: z.string(),
  rewrapped: z.number().int().describe("Data keys re-wrapped (values are never re-encrypted)"),
  keyFile: z.string().describe("The key file that now holds the new key"),
  retiredKeyFile: z.string().describe("Where the old key is kept: backups sealed before the rotation restore with it"),
});
