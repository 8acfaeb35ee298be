// Shapes of audit entries and checkpoints: what callers pass in, what is stored and exported, and
// what the verifier accepts (including lines it could not read, which it reports by position).
import * as z from "zod";
import {
  AUDIT_OUTCOMES,
  AuditCheckpointSchema,
  AuditEntryResponseSchema,
  HexHash,
  type AuditCheckpoint,
  type AuditOutcome,
} from "../contract/index.ts";
import type { Json } from "./canonical.ts";

// The outcomes, the hash shape, the checkpoint and the entry's fields are the API's too (src/contract/audit.ts).
export const OUTCOMES = AUDIT_OUTCOMES;
export type Outcome = AuditOutcome;
export { HexHash };
/** prev_hash of entry 1, and head_hash of an empty log. */
export const GENESIS_HASH = "0".repeat(64);

const JsonValue: z.ZodType<Json> = z.lazy(() =>
  z.union([
    z.null(),
    z.boolean(),
    z.number().refine(Number.isFinite, "finite number"),
    z.string(),
    z.array(JsonValue),
    z.record(z.string(), JsonValue),
  ]),
);
export const DetailsSchema = z.record(z.string(), JsonValue);
export type Details = z.infer<typeof DetailsSchema>;

/** What a caller records. `details` must not hold secret values (see details-guard.ts). */
export const NewAuditEntrySchema = z.strictObject({
  actor: z.string().min(1).max(200),
  action: z.string().regex(/^[a-z][a-z0-9_.:-]{0,99}$/, "lowercase dotted name, e.g. secret.read"),
  target: z.string().min(1).max(500).nullish(),
  tenant: z.string().min(1).max(200).nullish(),
  outcome: z.enum(OUTCOMES),
  details: DetailsSchema.optional(),
});
export type NewAuditEntry = z.input<typeof NewAuditEntrySchema>;

/** A stored entry. `hash` = SHA-256 of the canonical JSON of every other field (see hash.ts). */
export const AuditEntrySchema = AuditEntryResponseSchema.extend({ details: DetailsSchema });
export type AuditEntry = z.infer<typeof AuditEntrySchema>;

/** A signed checkpoint. The signature covers the canonical body in checkpoint-body.ts. */
export { AuditCheckpointSchema, type AuditCheckpoint };

/** A line of an export file that could not be read as what its position says it is. */
export type Unreadable = { unreadable: true; line: number; tree_size?: number };
/** A stored row with details still as the stored JSON text: the verifier's fast path. */
export type RawEntry = Omit<AuditEntry, "details"> & { detailsJson: string };
export type VerifyEntry = AuditEntry | RawEntry | Unreadable;
export type VerifyCheckpoint = AuditCheckpoint | Unreadable;
export const isUnreadable = (x: VerifyEntry | VerifyCheckpoint): x is Unreadable => "unreadable" in x;

/** Signs checkpoints. `publicKey` is the raw 32-byte Ed25519 public key; `sign` returns 64 bytes. */
export type AuditSigner = {
  keyId: string;
  sign(bytes: Uint8Array): Promise<Uint8Array>;
  publicKey: Uint8Array;
};
