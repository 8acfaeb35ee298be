// The audit log for admins (search, checkpoints, the export, verification) and the orchestrator's
// public key for anyone with a token (Workers and auditors check signatures with it).
import * as z from "zod";
import { exportStream } from "../audit/export.ts";
import { actorOf } from "../security/index.ts";
import type { RouteContext } from "./context.ts";
import { decodeCursor, pageFrom } from "./cursor.ts";
import { route, type RouteDef } from "./route.ts";
import {
  AuditCheckpointSchema,
  AuditExportQuerySchema,
  AuditPageSchema,
  AuditQuerySchema,
  AuditVerifySchema,
  OrchestratorKeySchema,
} from "../contract/index.ts";

export const NDJSON = "application/x-ndjson";

export function auditRoutes(ctx: RouteContext): RouteDef[] {
  const security = ctx.deps.security;
  const { audit, trail } = security;
  return [
    route({
      id: "searchAudit",
      method: "get",
      path: "/v1/audit",
      summary:
        "Audit entries matching the filters, newest first, a page at a time (?limit=&cursor=; `next` until the last page); deployers and agents may search (values appear only as keyed hashes)",
      role: "deployer",
      query: AuditQuerySchema,
      response: AuditPageSchema,
      handle({ query }) {
        const { cursor, limit: asked, ...filters } = query;
        const limit = asked ?? 100;
        // Keyset on seq: the next page is the entries older than the last one sent.
        const before = cursor ? Number(decodeCursor("audit", filters, cursor)[0]) : filters.beforeSeq;
        const page = audit.search({ ...filters, ...(before === undefined ? {} : { beforeSeq: before }), limit }).reverse();
        const last = page.at(-1);
        // One more older match, if any, says there is a next page (limit may be the search's maximum).
        const more = last !== undefined && page.length === limit && audit.search({ ...filters, beforeSeq: last.seq, limit: 1 }).length > 0;
        return pageFrom(more ? [...page, last] : page, limit, { list: "audit", filters, position: (e) => [e.seq], item: (e) => e });
      },
    }),
    route({
      id: "listAuditCheckpoints",
      method: "get",
      path: "/v1/audit/checkpoints",
      summary: "Signed checkpoints (tree size, Merkle root, Ed25519 signature), oldest first",
      role: "admin",
      response: z.array(AuditCheckpointSchema),
      handle: () => audit.checkpoints(),
    }),
    route({
      id: "exportAudit",
      method: "get",
      path: "/v1/audit/export",
      summary: "The log as JSON lines (src/audit/FORMAT.md), verifiable offline with the public key; streamed as it is read",
      role: "admin",
      query: AuditExportQuerySchema,
      response: z.string(),
      contentType: NDJSON,
      stream: true,
      // Streamed from the store's connection (the log's own), a page of entries at a time: a
      // million-entry log is never held in memory whole. The header line's counts are fixed when
      // the answer starts, so an answer cut short shows as one (read-export.ts reports it).
      handle: ({ query }) => exportStream(ctx.deps.store.db, { include: query.include ?? "all" }),
    }),
    route({
      id: "verifyAudit",
      method: "post",
      path: "/v1/audit/verify",
      summary: "Verifies the chain against the stored checkpoints and the shipped ones; names the first bad entry",
      role: "admin",
      response: AuditVerifySchema,
      async handle({ principal, tenant }) {
        const r = await security.verify();
        trail.note({
          actor: actorOf(principal!),
          action: "audit.verify",
          target: "audit",
          tenant,
          outcome: r.ok ? "ok" : "error",
          details: {
            checked: r.checked,
            checkpoints: r.checkpoints,
            ...(r.firstBad ? { firstBadSeq: r.firstBad.seq, reason: r.firstBad.reason } : {}),
          },
        });
        return r;
      },
    }),
    route({
      id: "getOrchestratorKey",
      method: "get",
      path: "/v1/keys/orchestrator",
      summary: "The orchestrator's Ed25519 public key: it signs audit checkpoints (and config bundles)",
      role: "viewer",
      response: OrchestratorKeySchema,
      handle: () => security.orchestratorKey,
    }),
  ];
}
