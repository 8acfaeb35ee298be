// What the CLI reads from the daemon's secrets, tokens and audit routes (issue 4's REST contract),
// validated where it enters the process. Loose like api-schemas.ts: extra fields pass through.
// None of the list shapes has a place for a value; only SecretValueSchema carries one.
import * as z from "zod";
import { ReleaseSchema } from "./api-schemas.ts";

const Iso = z.string();

export const SecretSummarySchema = z.looseObject({
  name: z.string(),
  version: z.number().int(),
  mode: z.string(),
  jurisdictions: z.array(z.string()).default([]),
  deleted: z.boolean(),
  updatedAt: Iso.nullable().optional(),
});
export type ApiSecretSummary = z.infer<typeof SecretSummarySchema>;

export const SecretVersionSchema = z.looseObject({
  version: z.number().int(),
  createdAt: Iso.nullable().optional(),
  createdBy: z.string().nullable().optional(),
  destroyed: z.boolean(),
  current: z.boolean().optional(),
});
export type ApiSecretVersion = z.infer<typeof SecretVersionSchema>;

export const SecretWrittenSchema = z.looseObject({ name: z.string(), version: z.number().int() });
export const SecretValueSchema = z.looseObject({ name: z.string(), version: z.number().int(), value: z.string(), encoding: z.enum(["utf8", "base64"]).default("utf8") });
export const SecretDeletedSchema = z.looseObject({ name: z.string(), deleted: z.boolean() });
export const SecretDestroyedSchema = z.looseObject({ name: z.string(), destroyed: z.array(z.number().int()) });

export const TokenSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  role: z.string(),
  tenant: z.string().nullable().optional(),
  createdAt: Iso.nullable().optional(),
  expiresAt: Iso.nullable().optional(),
  revokedAt: Iso.nullable().optional(),
});
export type ApiToken = z.infer<typeof TokenSchema>;
export const NewTokenSchema = TokenSchema.extend({ token: z.string().min(1) });
export const TokenRevokedSchema = z.looseObject({ id: z.string(), revoked: z.boolean() });

export const AuditEntrySchema = z.looseObject({
  seq: z.number().int(),
  at: Iso,
  actor: z.string(),
  action: z.string(),
  target: z.string().nullable().optional(),
  tenant: z.string().nullable().optional(),
  outcome: z.string(),
  details: z.record(z.string(), z.unknown()).default({}),
  hash: z.string().optional(),
});
export type ApiAuditEntry = z.infer<typeof AuditEntrySchema>;

/** Per-Worker keys: versions only. There is no field for key material, and none is printed. */
export const WorkerKeySchema = z.looseObject({
  worker: z.string(),
  target: z.string(),
  current: z.number().int(),
  accepted: z.array(z.number().int()),
  updatedAt: Iso.optional(),
});
export type ApiWorkerKey = z.infer<typeof WorkerKeySchema>;
export const KeyRotationSchema = z.looseObject({ keys: z.array(WorkerKeySchema), release: ReleaseSchema.nullable() });

export const DeliverySchema = z.looseObject({
  name: z.string(),
  version: z.number().int(),
  releases: z.array(z.looseObject({ worker: z.string(), releaseId: z.string() })),
});

export const MasterKeyRotationSchema = z.looseObject({
  fromKeyId: z.string(),
  toKeyId: z.string(),
  rewrapped: z.number().int(),
  keyFile: z.string(),
  retiredKeyFile: z.string(),
});

export const BackupSchema = z.looseObject({
  file: z.string(),
  bytes: z.number().int(),
  createdAt: Iso,
  masterKeyId: z.string(),
  files: z.array(z.looseObject({ name: z.string(), bytes: z.number().int() })),
  audit: z.looseObject({ entries: z.number().int(), checkpoints: z.number().int() }),
  removed: z.array(z.string()).default([]),
});
export type ApiBackup = z.infer<typeof BackupSchema>;
