// The audit log on the wire: entries, signed checkpoints (also the export file's lines, see
// src/audit/FORMAT.md), the verifier's answer, the orchestrator's public key, and the queries.
import * as z from "zod";
import { CursorQueryShape, pageOf } from "./pages.ts";
import { AUDIT_OUTCOMES } from "./statuses.ts";

export const HexHash = z.string().regex(/^[0-9a-f]{64}$/, "64 lowercase hex characters");

/** A stored audit entry as the API sends it (details as plain JSON). `hash` chains it to `prev_hash`. */
export const AuditEntryResponseSchema = z.strictObject({
  seq: z.number().int().min(1),
  at: z.string(),
  actor: z.string(),
  action: z.string(),
  target: z.string().nullable(),
  tenant: z.string().nullable(),
  outcome: z.enum(AUDIT_OUTCOMES),
  details: z.record(z.string(), z.unknown()),
  prev_hash: HexHash,
  hash: HexHash,
});
export type AuditEntryResponse = z.output<typeof AuditEntryResponseSchema>;
/** GET /v1/audit: newest first. */
export const AuditPageSchema = pageOf(AuditEntryResponseSchema);

/** A signed checkpoint. The signature covers the canonical body (src/audit/checkpoint-body.ts). */
export const AuditCheckpointSchema = z.strictObject({
  tree_size: z.number().int().min(0),
  merkle_root: HexHash,
  head_hash: HexHash,
  key_id: z.string().min(1),
  at: z.string(),
  signature: z.string().regex(/^[0-9a-f]{128}$/, "128 lowercase hex characters (64 bytes)"),
});
export type AuditCheckpoint = z.infer<typeof AuditCheckpointSchema>;

const QueryInt = (min: number) => z.coerce.number().int().min(min);

export const AuditQuerySchema = z.object({
  limit: QueryInt(1).max(10_000).optional().describe("At most this many per page (default 100)"),
  actor: z.string().min(1).optional(),
  action: z.string().min(1).optional().describe('Exact, or a prefix ending in "*": secret.*'),
  target: z.string().min(1).optional(),
  outcome: z.enum(AUDIT_OUTCOMES).optional(),
  since: z.string().datetime({ offset: true }).optional(),
  until: z.string().datetime({ offset: true }).optional(),
  text: z.string().min(1).max(200).optional().describe("Case-insensitive substring of actor, action, target or details"),
  beforeSeq: QueryInt(1).optional().describe("Only entries older than this seq (where the first page starts)"),
  ...CursorQueryShape,
});
export type AuditQuery = z.input<typeof AuditQuerySchema>;
export const AuditExportQuerySchema = z.object({
  include: z
    .enum(["all", "checkpoints"])
    .optional()
    .describe("all (default): entries and checkpoints; checkpoints: the small file to keep off the VPS"),
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
export type AuditVerify = z.output<typeof AuditVerifySchema>;

export const OrchestratorKeySchema = z.object({
  keyId: z.string().describe("The key_id audit checkpoints carry"),
  publicKey: z.string().describe("Raw 32-byte Ed25519 public key, base64url"),
  jwk: z.object({
    kty: z.literal("OKP"),
    crv: z.literal("Ed25519"),
    x: z.string(),
    kid: z.string(),
    alg: z.literal("EdDSA"),
    use: z.literal("sig"),
  }),
});
