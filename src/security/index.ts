// Public surface of security: the vault, audit log and signing key opened together, the audit
// trail the API and the daemon write through, who acts (principals), and which master key opens
// the vault (the one place that decides it).
export { openSecurity, type Security, type SecurityOptions } from "./open-security.ts";
export { createAuditTrail, engineEntry, vaultEntry, viaOf, type AuditTrail } from "./audit-trail.ts";
export { createDenialLog, type DenialLog, type DenialOptions, type DeniedEntry } from "./denials.ts";
export {
  loadOrchestratorKey,
  ORCHESTRATOR_KEY_SECRET,
  RESERVED_PREFIX,
  type OrchestratorKey,
  type OrchestratorKeyInfo,
} from "./orchestrator-key.ts";
export { createCheckpointExport, type CheckpointExport } from "./checkpoint-export.ts";
export { actorOf, createdByOf, DAEMON_ACTOR, ENGINE_ACTOR, type Principal } from "./principal.ts";
