// A version upload's D1, R2 and queue bindings must name resources of the same account, as at
// Cloudflare, which refuses the upload (10021) rather than let the Worker fail at run time. The
// D1 message is Cloudflare's own text (wrangler has special help for it). Messages carry no
// "[code: N]": wrangler appends that itself, and matches the D1 text with exactly one.
import type { D1Store } from "../state/d1.ts";
import type { R2Store } from "../state/r2.ts";
import type { QueueStore } from "../state/queues.ts";
import type { Binding } from "../state/model.ts";
import { CF_CODES, CfApiError } from "./envelope.ts";

const invalid = (message: string) => new CfApiError(400, CF_CODES.SCRIPT_INVALID, message);

export function createDataBindingCheck(deps: { d1: D1Store; r2: R2Store; queues: QueueStore }) {
  return function checkDataBindings(accountId: string, bindings: Binding[]): void {
    for (const b of bindings) {
      if (b.type === "d1") {
        const db = typeof b.id === "string" ? deps.d1.byId(b.id.toLowerCase()) : undefined;
        if (!db || db.account_id !== accountId) throw invalid(`binding ${b.name} of type d1 must have a valid \`id\` specified`);
      } else if (b.type === "r2_bucket") {
        if (typeof b.bucket_name !== "string") throw invalid(`binding ${b.name} of type r2_bucket must have a \`bucket_name\``);
        const j = b.jurisdiction === undefined ? "default" : b.jurisdiction;
        if (j !== "default" && j !== "eu" && j !== "fedramp")
          throw invalid(`binding ${b.name} of type r2_bucket has an unknown jurisdiction "${String(j)}"`);
        if (!deps.r2.getBucket(accountId, j, b.bucket_name)) {
          throw invalid(
            `binding ${b.name} of type r2_bucket references bucket "${b.bucket_name}"${j !== "default" ? ` in jurisdiction ${j}` : ""}, which does not exist`,
          );
        }
      } else if (b.type === "queue") {
        if (typeof b.queue_name !== "string" || !deps.queues.byName(accountId, b.queue_name)) {
          throw invalid(`binding ${b.name} of type queue references queue "${String(b.queue_name)}", which does not exist`);
        }
        if (
          b.delivery_delay !== undefined &&
          (typeof b.delivery_delay !== "number" || !Number.isInteger(b.delivery_delay) || b.delivery_delay < 0 || b.delivery_delay > 86_400)
        ) {
          throw invalid(`binding ${b.name} of type queue: delivery_delay must be 0 to 86400 seconds`);
        }
      }
    }
  };
}
