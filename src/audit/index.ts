// The audit log's public surface. Writing: createAuditLog. Checking offline, with no database and
// no private key: readAuditExport + verifyAuditLog (or auditSource over a database file).
export { createAuditLog, auditSource, type AuditLog, type AuditLogOptions } from "./log.ts";
export { verifyAuditLog, type AuditFault, type AuditFaultReason, type VerifyInput, type VerifyResult } from "./verify.ts";
export { readAuditExport, parseAuditExport, type AuditExport, type ExportHeader, type ReadExportOptions } from "./read-export.ts";
export { exportLines, exportTo, EXPORT_FORMAT, type ExportOptions, type ExportToOptions, type ExportResult } from "./export.ts";
export { AuditSearchSchema, type AuditSearch } from "./search.ts";
export { canonicalJson, type Json } from "./canonical.ts";
export { entryBody, entryHash } from "./hash.ts";
export { merkleRoot, EMPTY_ROOT } from "./merkle.ts";
export { checkpointBody, CHECKPOINT_KIND } from "./checkpoint-body.ts";
export { guardDetails, MAX_DETAILS_BYTES } from "./details-guard.ts";
export { keyedHash } from "./value-hash.ts";
export { createEd25519Signer, generateEd25519Signer, keyIdFor } from "./signer.ts";
export {
  AuditCheckpointSchema,
  AuditEntrySchema,
  NewAuditEntrySchema,
  GENESIS_HASH,
  OUTCOMES,
  type AuditCheckpoint,
  type AuditEntry,
  type AuditSigner,
  type NewAuditEntry,
  type Outcome,
  type Unreadable,
  type VerifyCheckpoint,
  type VerifyEntry,
} from "./schema.ts";
export { verifyStoredLog, PARALLEL_FROM, type StoredVerification, type StoredVerifyOptions } from "./verify-stored.ts";
