// `d1_restore`: `cbo d1 restore` for agents. Without confirm it answers what the restore would do
// (which bookmark, taken when, how many minutes of writes are lost, which migrations the schema
// loses); with confirm: true, after the user agreed to exactly that, it restores (audited under the
// agent's token, as every change through the daemon).
import * as z from "zod";
import { Confirm, defineTool, done, needsConfirmation, WorkerName, withToolHint } from "./tool.ts";

const Name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/, "only letters, digits, _ and -, starting with a letter or digit");

export const d1Restore = defineTool({
  name: "d1_restore",
  title: "Restore a D1 database to a release's bookmark",
  description:
    "Restores a target's D1 database to the Time Travel bookmark a release took before its migrations there: every write since is lost. Without confirm it says which bookmark and how many minutes of writes. Mutating: needs confirm: true after the user agreed.",
  input: z
    .object({
      binding: Name.describe("The D1 binding name, e.g. DB"),
      target: Name.describe("The target whose database is restored"),
      release: Name.describe("The release whose bookmark (taken before its migrations) is restored"),
      worker: WorkerName.optional(),
      confirm: Confirm,
    })
    .strict(),
  mutating: true,
  async run({ binding, target, release, worker, confirm }, { api }) {
    const req = { binding, target, release, ...(worker ? { worker } : {}) };
    const p = await withToolHint(
      api.d1RestorePreview(req),
      "ERR_NOT_FOUND",
      "The releases tool lists a worker's releases; release_show shows the ones that migrated a D1 database (their d1.applied steps, per target).",
      /^No release /,
    );
    const what = `Restore D1 ${p.database} (${p.binding} of ${p.worker}) on ${p.target} to the bookmark taken before release ${p.release} at ${p.bookmarkAt}: about ${p.minutesLost} minute(s) of writes since then will be lost${p.migrations.length > 0 ? `, and the schema loses ${p.migrations.join(", ")}` : ""}.`;
    if (confirm !== true) return needsConfirmation(what, p);
    const r = await api.d1Restore({ ...req, confirm: true });
    return done(
      `Restored D1 ${r.database} on ${r.target} to ${r.bookmark}${r.undoBookmark ? ` (to undo: bookmark ${r.undoBookmark})` : ""}.`,
      r,
    );
  },
});

export const D1_TOOLS = [d1Restore];
