// The contract's schemas that have a name in the OpenAPI document's components (src/api/openapi.ts);
// the others are inlined per route, named after it.
import type * as z from "zod";
import { AuditCheckpointSchema, AuditEntryResponseSchema, AuditPageSchema, AuditVerifySchema, OrchestratorKeySchema } from "./audit.ts";
import { ErrorBodySchema } from "./error-body.ts";
import { EventPageSchema, EventSchema } from "./events.ts";
import {
  DriftSchema,
  HealthRowSchema,
  RestorePendingSchema,
  StatusSchema,
  TargetSummarySchema,
  VersionEntrySchema,
  VersionPageSchema,
  WorkerSummarySchema,
} from "./fleet.ts";
import {
  CreateReleaseBodySchema,
  GateSchema,
  JournalEntrySchema,
  ReleaseDetailSchema,
  ReleasePageSchema,
  ReleasePlanSchema,
  ReleaseSchema,
  RollbackBodySchema,
} from "./releases.ts";
import {
  ControlBodySchema,
  ControlResultSchema,
  ReleaseAnalysisSchema,
  ReleaseControlSchema,
  StepAnalysisSchema,
} from "./release-control.ts";
import {
  CreatedTokenSchema,
  CreateTokenBodySchema,
  DestroySecretBodySchema,
  PutSecretBodySchema,
  RollbackSecretBodySchema,
  SecretSchema,
  SecretValueSchema,
  SecretVersionSchema,
  TokenSchema,
} from "./security.ts";

export const NAMED_SCHEMAS: Record<string, z.ZodType> = {
  Error: ErrorBodySchema,
  Release: ReleaseSchema,
  JournalEntry: JournalEntrySchema,
  ReleaseDetail: ReleaseDetailSchema,
  StoredEvent: EventSchema,
  ReleasePlan: ReleasePlanSchema,
  Status: StatusSchema,
  Drift: DriftSchema,
  RestorePending: RestorePendingSchema,
  Target: TargetSummarySchema,
  Worker: WorkerSummarySchema,
  VersionEntry: VersionEntrySchema,
  HealthRow: HealthRowSchema,
  Gate: GateSchema,
  CreateReleaseBody: CreateReleaseBodySchema,
  RollbackBody: RollbackBodySchema,
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
  ReleasePage: ReleasePageSchema,
  EventPage: EventPageSchema,
  AuditPage: AuditPageSchema,
  VersionPage: VersionPageSchema,
  ControlBody: ControlBodySchema,
  ReleaseControl: ReleaseControlSchema,
  ControlResult: ControlResultSchema,
  ReleaseAnalysis: ReleaseAnalysisSchema,
  StepAnalysis: StepAnalysisSchema,
};
