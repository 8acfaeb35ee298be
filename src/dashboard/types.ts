// The API's shapes, as the contract defines them (src/contract): the dashboard reads every answer
// through the one daemon client, which validates it against the same schemas.
import type { AnyEvent, Role } from "../contract/index.ts";

export type {
  AuditEntryResponse as AuditEntry,
  AuditVerify,
  JournalEntry,
  LogLine,
  LogsStatus,
  MetricsSeries,
  Release,
  ReleaseDetail,
  Role,
  Secret,
  Status,
  Token,
  VersionEntry,
  WorkerSummary,
} from "../contract/index.ts";
import type { Status } from "../contract/index.ts";
export type StatusWorker = Status["workers"][number];
export type StatusTarget = StatusWorker["targets"][number];
/** An event from the stream or GET /v1/events, of any type (narrow with eventOf). */
export type StoredEvent = AnyEvent;

/** GET /ui/session when logged in. */
export type SessionInfo = {
  authenticated: true;
  name: string;
  role: Role;
  tenant: string | null;
  csrf: string;
  expiresAt: string;
  eventsAfter: number;
};

const RANK: Record<Role, number> = { metrics: 0, viewer: 1, deployer: 2, agent: 2, admin: 3 };
/** Whether `role` may do what needs `needed` (the API's own order: admin > deployer = agent > viewer > metrics). */
export const allows = (role: Role, needed: Role): boolean => RANK[role] >= RANK[needed];
