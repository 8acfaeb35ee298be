// D1 restores: the explicit way back for a database a release migrated (`cbo d1 restore`). The
// preview says which bookmark and how many minutes of writes are lost; the restore needs
// `confirm: true` and is audited (requested first, fail closed; its outcome after).
import { CboError } from "../kit/errors.ts";
import { D1RestoreBodySchema, D1RestorePreviewSchema, D1RestoreQuerySchema, D1RestoreResultSchema } from "../contract/index.ts";
import { describeD1Restore } from "../deploy/d1-restore.ts";
import { actorOf } from "../security/index.ts";
import type { RouteContext } from "./context.ts";
import { route, type RouteDef } from "./route.ts";

export function d1Routes(ctx: RouteContext): RouteDef[] {
  const { engine } = ctx.deps;
  const { trail } = ctx.deps.security;
  return [
    route({
      id: "previewD1Restore",
      method: "get",
      path: "/v1/d1/restore",
      summary:
        "What restoring a D1 database to the bookmark a release took before its migrations would do: the bookmark, when, the minutes of writes lost",
      role: "viewer",
      query: D1RestoreQuerySchema,
      response: D1RestorePreviewSchema,
      errors: [404],
      handle: ({ query }) => engine.previewD1Restore(query),
    }),
    route({
      id: "restoreD1",
      method: "post",
      path: "/v1/d1/restore",
      summary:
        "Restore a target's D1 database to the bookmark a release took before its migrations (confirm: true; the writes since are lost)",
      role: "deployer",
      body: D1RestoreBodySchema,
      response: D1RestoreResultSchema,
      errors: [404, 409, 428, 503],
      audit: { action: "d1.restore", target: ({ body }) => `d1:${body.target}/${body.binding}` },
      async handle({ body, principal, tenant }) {
        const { confirm, ...req } = body;
        const preview = engine.previewD1Restore(req);
        if (confirm !== true) {
          throw new CboError("ERR_CONFIRMATION_REQUIRED", `${describeD1Restore(preview)} Nothing was done.`, {
            details: { ...preview, needs: "confirm" },
            hint: "Confirm with --yes (API: confirm: true) once you accept losing those writes.",
          });
        }
        const actor = actorOf(principal!);
        const target = `d1:${preview.target}/${preview.binding}`;
        const what = {
          worker: preview.worker,
          database: preview.database,
          release: preview.release,
          bookmark: preview.bookmark,
          minutesLost: preview.minutesLost,
        };
        // Recorded (fail-closed) once the bookmark of the moment before is known, before the restore
        // is sent: if the daemon dies waiting for the answer, the audit log still holds the way back.
        const done = await engine.restoreD1(req, {
          beforeSending: (undoBookmark) =>
            trail.record({
              actor,
              action: "d1.restore",
              target,
              tenant,
              outcome: "ok",
              details: { stage: "requested", ...what, undoBookmark },
            }),
        });
        trail.note({
          actor,
          action: "d1.restore",
          target,
          tenant,
          outcome: "ok",
          details: { stage: "restored", ...what, undoBookmark: done.undoBookmark },
        });
        return done;
      },
    }),
  ];
}
