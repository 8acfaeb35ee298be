// D1 databases (#/d1[?worker=x]): every release that migrated a worker's D1 database in a target,
// newest first, and for deployers the way back `cbo d1 restore` offers: restore the database to
// the Time Travel bookmark that release took before its migrations there. The bookmark, when it
// was taken, the minutes of writes lost and the migrations the schema loses are read first
// (GET /v1/d1/restore) and shown in the confirmation; the restore runs only after it, its progress
// and outcome (with the bookmark that undoes it) shown on the row's result line.
import type { El } from "./browser.ts";
import { badge, confirmDialog, failure, h, put, refocus, short, table, when } from "./dom.ts";
import { d1Rows, type D1Row } from "./d1-rows.ts";
import { liveList, workerFilter } from "./list-page.ts";
import { keepQuery, type Page, type PageCtx } from "./page.ts";
import type { Release } from "./types.ts";

const LIST_ON = /^release\.(created|succeeded|rolled_back|failed|aborted|recovered|phase\.done)$/;

export const d1Page: Page = (root, ctx, route) => {
  let worker = route.query.get("worker") ?? "";
  const list = h("div", { class: "d1-list" }, h("p", { class: "muted" }, "Loading…"));
  const outcome = h("div", { class: "d1-outcome", role: "status", "aria-live": "polite", "data-d1-outcome": "" });
  const filter = workerFilter(ctx, "d1-filter", worker, (w) => {
    worker = w;
    keepQuery({ worker });
    void load();
  });
  put(
    root,
    h("div", { class: "page-head" }, h("h1", {}, "D1 databases"), h("label", { for: "d1-filter" }, "Show ", filter)),
    h(
      "p",
      { class: "muted" },
      "Each release that migrated a database took a Time Travel bookmark there first. Restoring to it undoes the release's migrations and every write since.",
    ),
    outcome,
    h("section", { "aria-labelledby": "d1-h" }, h("h2", { id: "d1-h" }, "Migrations by release"), list),
  );

  async function load(): Promise<void> {
    try {
      const releases: Release[] = (await ctx.api.releases({ ...(worker ? { worker } : {}), limit: 100 })).items;
      const rows = d1Rows(releases);
      put(
        list,
        rows.length === 0
          ? h("p", { class: "muted" }, "No release has migrated a D1 database yet.")
          : table(
              "D1 migrations by release, newest first",
              ["Worker", "Target", "Database", "Release", "Started", "Status", "Migrations", ""],
              rows.map((r) => [
                r.worker,
                r.target,
                h("span", {}, h("code", {}, r.binding), ` ${r.database}`),
                h("a", { href: `#/releases/${r.release}` }, short(r.release)),
                when(r.at),
                badge(r.status),
                r.files.join(", "),
                ctx.can("deployer") ? restoreButton(ctx, r, outcome) : null,
              ]),
              { class: "data", "data-table": "d1" },
            ),
      );
    } catch (e) {
      put(list, failure(e));
    }
  }
  return liveList(load, LIST_ON);
};

function restoreButton(ctx: PageCtx, r: D1Row, outcome: El): El {
  const key = `${r.target}/${r.binding}/${r.release}`;
  const button = h(
    "button",
    { type: "button", class: "secondary", "data-d1-restore": key, onclick: () => void restore() },
    "Restore to before…",
  ) as El & { disabled: boolean };
  const req = { binding: r.binding, target: r.target, release: r.release, worker: r.worker };
  async function restore(): Promise<void> {
    button.disabled = true;
    try {
      // What it would do, from the daemon (the bookmark and the writes lost): shown before anything happens.
      const p = await ctx.api.d1RestorePreview(req);
      const ok = await confirmDialog(
        `Restore D1 ${p.database} on ${p.target}?`,
        [
          h("p", {}, `Back to the bookmark release ${short(p.release)} took before its migrations there.`),
          h(
            "dl",
            { class: "d1-preview" },
            h("dt", {}, "Bookmark"),
            h("dd", {}, h("code", { "data-bookmark": "" }, p.bookmark)),
            h("dt", {}, "Taken"),
            h("dd", { "data-bookmark-at": p.bookmarkAt }, when(p.bookmarkAt)),
            h("dt", {}, "Writes lost"),
            h("dd", { "data-minutes-lost": p.minutesLost }, `about ${p.minutesLost} minute(s) of writes since then`),
            h("dt", {}, "Schema loses"),
            h("dd", { "data-migrations-lost": "" }, p.migrations.length > 0 ? p.migrations.join(", ") : "nothing"),
          ),
        ],
        "Restore database",
      );
      if (!ok) return;
      put(outcome, h("p", { "aria-busy": "true", "data-state": "restoring" }, `Restoring D1 ${p.database} on ${p.target}…`));
      const done = await ctx.api.d1Restore({ ...req, confirm: true });
      put(
        outcome,
        h(
          "p",
          { class: "ok", "data-state": "restored", "data-restored-at": done.restoredAt },
          `D1 ${done.database} on ${done.target} restored at ${when(done.restoredAt)} to bookmark `,
          h("code", {}, done.bookmark),
          ".",
          // The bookmark of the moment before: Time Travel restores to it (the CLI prints the same command).
          done.undoBookmark
            ? h(
                "span",
                {},
                " To undo: ",
                h(
                  "code",
                  { "data-undo-bookmark": done.undoBookmark },
                  `wrangler d1 time-travel restore ${done.database} --bookmark ${done.undoBookmark}`,
                ),
              )
            : null,
        ),
      );
    } catch (e) {
      put(outcome, failure(e));
    } finally {
      button.disabled = false;
      refocus(button);
    }
  }
  return button;
}
