// Backups taken by the daemon on request (`cbo backup` while the daemon runs), so that each one is
// on the audit record: an archive holds every secret (encrypted), and who took one and when is an
// auditor's question. The archive is written on the daemon's host, sealed with the master key the
// daemon holds now (after an online rotation, the new one); paths in the request are paths there.
// The paths are checked twice: their shape here (absolute, no NUL, no .., Linux's length limits),
// then where they lead by the daemon (src/backup/paths.ts: its backup directory, or a directory of
// its own user, never elsewhere in the data directory). Both refuse with 4xx and create nothing.
import { basename } from "node:path";
import { BackupBodySchema, BackupSchema } from "../contract/index.ts";
import { CboError } from "../kit/errors.ts";
import { actorOf } from "../security/index.ts";
import type { RouteContext } from "./context.ts";
import { route, type RouteDef } from "./route.ts";

export function backupRoutes(ctx: RouteContext): RouteDef[] {
  const { trail } = ctx.deps.security;
  return [
    route({
      id: "createBackup",
      method: "post",
      path: "/v1/backups",
      summary:
        "One encrypted, integrity-checked archive of the store, vault and audit log, written by the daemon and recorded as backup.create",
      role: "admin",
      body: BackupBodySchema,
      response: BackupSchema,
      errors: [409, 503],
      maxBodyBytes: 16 * 1024,
      audit: { action: "backup.create", target: () => "backup" },
      async handle({ body, principal, tenant }) {
        const admin = ctx.deps.admin;
        if (!admin)
          throw new CboError("ERR_CONFLICT", "This daemon was started without backups.", {
            hint: "run `cbo backup --data DIR` with the daemon stopped",
          });
        const actor = actorOf(principal!);
        // Fail closed: an archive whose entry cannot be written is removed again (admin.backup does
        // that when `written` throws), and the request fails.
        return admin.backup(body, (b) =>
          trail.record({
            actor,
            action: "backup.create",
            target: `backup:${basename(b.file)}`,
            tenant,
            outcome: "ok",
            details: {
              file: b.file,
              bytes: b.bytes,
              masterKeyId: b.masterKeyId,
              entries: b.audit.entries,
              checkpoints: b.audit.checkpoints,
              via: "api",
            },
          }),
        );
      },
    }),
  ];
}
