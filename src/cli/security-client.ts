// The daemon's secrets, tokens and audit routes as typed calls (issue 4's REST contract).
import { query, requestJson, type Connection } from "./api-request.ts";
import {
  AuditEntrySchema, BackupSchema, DeliverySchema, KeyRotationSchema, MasterKeyRotationSchema, NewTokenSchema, WorkerKeySchema, SecretDeletedSchema, SecretDestroyedSchema, SecretSummarySchema, SecretValueSchema,
  SecretVersionSchema, SecretWrittenSchema, TokenRevokedSchema, TokenSchema,
} from "./security-schemas.ts";

export type SecretPut = { value: string; encoding: "utf8" | "base64"; cas?: number; mode?: string; jurisdictions?: string[] };
export type TokenCreate = { name: string; role: string; tenant?: string; expiresAt?: string };
export type AuditQuery = {
  limit?: number; actor?: string; action?: string; target?: string; since?: string; until?: string; text?: string; beforeSeq?: number;
};

export function createSecurityClient(conn: Connection) {
  const enc = encodeURIComponent;
  const secret = (name: string) => `/v1/secrets/${enc(name)}`;
  return {
    listSecrets: () => requestJson(conn, "GET", "/v1/secrets", SecretSummarySchema.array()),
    secretVersions: (name: string) => requestJson(conn, "GET", `${secret(name)}/versions`, SecretVersionSchema.array()),
    putSecret: (name: string, body: SecretPut) => requestJson(conn, "PUT", secret(name), SecretWrittenSchema, body),
    getSecret: (name: string, version?: number) => requestJson(conn, "GET", `${secret(name)}/value${query({ version })}`, SecretValueSchema),
    rollbackSecret: (name: string, to: number, cas?: number) =>
      requestJson(conn, "POST", `${secret(name)}/rollback`, SecretWrittenSchema, { to, ...(cas === undefined ? {} : { cas }) }),
    deleteSecret: (name: string, cas?: number) => requestJson(conn, "DELETE", `${secret(name)}${query({ cas })}`, SecretDeletedSchema),
    undeleteSecret: (name: string) => requestJson(conn, "POST", `${secret(name)}/undelete`, SecretDeletedSchema, {}),
    destroySecret: (name: string, versions?: number[]) =>
      requestJson(conn, "POST", `${secret(name)}/destroy`, SecretDestroyedSchema, versions === undefined ? {} : { versions }),

    listTokens: () => requestJson(conn, "GET", "/v1/tokens", TokenSchema.array()),
    createToken: (body: TokenCreate) => requestJson(conn, "POST", "/v1/tokens", NewTokenSchema, body),
    revokeToken: (id: string) => requestJson(conn, "DELETE", `/v1/tokens/${enc(id)}`, TokenRevokedSchema),

    deliverSecret: (name: string) => requestJson(conn, "POST", `${secret(name)}/deliver`, DeliverySchema, {}),

    listWorkerKeys: () => requestJson(conn, "GET", "/v1/keys/workers", WorkerKeySchema.array()),
    rotateWorkerKey: (worker: string, body: { target?: string; release: boolean }) =>
      requestJson(conn, "POST", `/v1/keys/workers/${enc(worker)}/rotate`, KeyRotationSchema, body),

    rotateMasterKey: () => requestJson(conn, "POST", "/v1/vault/rotate-master-key", MasterKeyRotationSchema, {}),
    /** Paths are on the daemon's host. A backup of a large store takes a while: a long timeout. */
    createBackup: (body: { out?: string; dir?: string; keep?: number }) =>
      requestJson({ ...conn, timeoutMs: Math.max(conn.timeoutMs ?? 0, 30 * 60_000) }, "POST", "/v1/backups", BackupSchema, body),

    /** Newest first, as the daemon answers. */
    audit: (q: AuditQuery = {}) => requestJson(conn, "GET", `/v1/audit${query(q)}`, AuditEntrySchema.array()),
  };
}
export type SecurityClient = ReturnType<typeof createSecurityClient>;
