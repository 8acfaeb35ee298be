// The API's shapes, as the daemon's own schemas define them (types only: nothing of the API runs
// in the browser). Routes owned by optional features (tunnel, setup) are typed loosely in their
// pages, since the dashboard only shows what they send.
import type * as z from "zod";
import type { Principal } from "../api/types.ts";
import type {
  AuditEntryResponseSchema,
  AuditVerifySchema,
  SecretSchema,
  TokenSchema,
} from "../api/schemas-security.ts";
import type {
  EventSchema,
  JournalEntrySchema,
  ReleaseDetailSchema,
  ReleaseSchema,
  StatusSchema,
  VersionEntrySchema,
  WorkerSummarySchema,
} from "../api/schemas.ts";

export type Role = Principal["role"];
export type Status = z.output<typeof StatusSchema>;
export type StatusWorker = Status["workers"][number];
export type StatusTarget = StatusWorker["targets"][number];
export type Release = z.output<typeof ReleaseSchema>;
export type ReleaseDetail = z.output<typeof ReleaseDetailSchema>;
export type JournalEntry = z.output<typeof JournalEntrySchema>;
export type StoredEvent = z.output<typeof EventSchema>;
export type VersionEntry = z.output<typeof VersionEntrySchema>;
export type WorkerSummary = z.output<typeof WorkerSummarySchema>;
export type AuditEntry = z.output<typeof AuditEntryResponseSchema>;
export type AuditVerify = z.output<typeof AuditVerifySchema>;
export type Secret = z.output<typeof SecretSchema>;
export type Token = z.output<typeof TokenSchema>;

/** GET /ui/session when logged in. */
export type SessionInfo = { authenticated: true; name: string; role: Role; tenant: string | null; csrf: string; expiresAt: string; eventsAfter: number };

const RANK: Record<Role, number> = { viewer: 1, deployer: 2, agent: 2, admin: 3 };
/** Whether `role` may do what needs `needed` (the API's own order: admin > deployer = agent > viewer). */
export const allows = (role: Role, needed: Role): boolean => RANK[role] >= RANK[needed];
