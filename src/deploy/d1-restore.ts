// `cbo d1 restore <binding> --target T --to-release R`: the explicit way back for a D1 schema (a
// migration only goes forward, and a rollback never touches data). It restores the Time Travel
// bookmark the release recorded before its first migration on that target's database, as
// `wrangler d1 time-travel restore --bookmark` does; everything written since is lost, so the
// preview says how many minutes of writes that is and the restore needs an explicit confirmation.
// Never automatic: nothing in the engine calls it.
import type { D1RestorePreview, D1RestoreResult } from "../contract/index.ts";
import type { ResolvedWorker } from "../config/load.ts";
import { CboError, isCboError } from "../kit/errors.ts";
import type { Store } from "../store/index.ts";
import type { TargetRuntime } from "../targets/types.ts";
import { d1Replay } from "./journal.ts";

export type D1RestoreRequest = { binding: string; target: string; release: string; worker?: string };

export function previewD1Restore(
  store: Store,
  findWorker: (name: string) => ResolvedWorker,
  req: D1RestoreRequest,
  now: number = Date.now(),
): D1RestorePreview {
  const release = store.releases.get(req.release);
  if (!release)
    throw new CboError("ERR_NOT_FOUND", `No release ${req.release}.`, {
      hint: "The releases that migrated a D1 database are on the dashboard's D1 page (or GET /v1/releases?worker=<worker>); `cbo versions <worker>` names the release of each version.",
    });
  if (req.worker !== undefined && req.worker !== release.worker)
    throw new CboError("ERR_VALIDATION", `Release ${req.release} is a release of ${release.worker}, not ${req.worker}.`);
  const worker = findWorker(release.worker);
  const source = worker.sources?.[req.target] ?? worker.source;
  const binding = source?.bindings.find((b) => b.kind === "d1" && b.binding === req.binding);
  if (binding?.kind !== "d1")
    throw new CboError("ERR_NOT_FOUND", `Worker ${worker.name} has no D1 binding ${req.binding} on ${req.target}.`, {
      hint: `Its D1 bindings: ${
        source?.bindings
          .filter((b) => b.kind === "d1")
          .map((b) => b.binding)
          .join(", ") || "none"
      }.`,
    });
  const database = binding.resource.name;
  const taken = d1Replay(store.releases.entries(release.id)).find((d) => d.target === req.target && d.database === database);
  if (!taken?.bookmark || !taken.bookmarkAt || !taken.databaseId)
    throw new CboError(
      "ERR_NOT_FOUND",
      `Release ${release.id} took no bookmark of D1 ${database} on ${req.target}: it applied no migration there, so its data is as that release found it.`,
      { hint: "Name the release whose migrations you want to undo (cbo plan and the release record show them)." },
    );
  return {
    worker: worker.name,
    binding: req.binding,
    database,
    databaseId: taken.databaseId,
    target: req.target,
    release: release.id,
    bookmark: taken.bookmark,
    bookmarkAt: taken.bookmarkAt,
    minutesLost: Math.max(0, Math.ceil((now - Date.parse(taken.bookmarkAt)) / 60_000)),
    migrations: taken.applied,
  };
}

export async function restoreD1ToBookmark(
  runtime: TargetRuntime,
  preview: D1RestorePreview,
  beforeSending?: (undoBookmark: string) => void,
): Promise<D1RestoreResult> {
  // The moment before, read first: if the restore's answer is lost (it is sent once, as a second
  // restore would answer a previous_bookmark that undoes nothing), this is the way back. The caller
  // records it before the restore is sent (throwing there sends nothing): a daemon killed while it
  // waits for the answer leaves that record as the only way back.
  const before = await runtime.client.getD1Bookmark(preview.databaseId);
  beforeSending?.(before);
  try {
    const r = await runtime.client.restoreD1(preview.databaseId, preview.bookmark);
    return { ...preview, undoBookmark: r.previous_bookmark ?? before, restoredAt: new Date().toISOString() };
  } catch (e) {
    if (!isCboError(e) || e.code === "ERR_CF_REQUEST") throw e;
    throw new CboError(
      e.code,
      `The restore of D1 ${preview.database} on ${preview.target} got no answer (${e.message}): whether it landed is unknown. If it did, bookmark ${before} undoes it.`,
      {
        details: { database: preview.database, target: preview.target, bookmark: preview.bookmark, undoBookmark: before },
        hint: `Run the same cbo d1 restore again once ${preview.target} answers (restoring to the same bookmark twice leaves the same data); keep ${before}: it holds the writes from before this attempt.`,
        cause: e,
      },
    );
  }
}

/** What the user agrees to, in one sentence (CLI prompt, API refusal, MCP). */
export function describeD1Restore(p: D1RestorePreview): string {
  return `Restore D1 ${p.database} (${p.binding} of ${p.worker}) on ${p.target} to the bookmark taken before release ${p.release} at ${p.bookmarkAt}: about ${p.minutesLost} minute(s) of writes since then will be lost${p.migrations.length > 0 ? `, and the schema loses ${p.migrations.join(", ")}` : ""}.`;
}
