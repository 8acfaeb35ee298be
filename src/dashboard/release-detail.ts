// One release, live: every target's steps as they start, pass or fail (release.* events), the
// event log, and an abort button while it runs.
import { allItems } from "../client/index.ts";
import type { Field } from "./browser.ts";
import { badge, confirmDialog, failure, h, put, short, when } from "./dom.ts";
import type { Page } from "./page.ts";
import { describe, releaseProgress } from "./release-steps.ts";
import type { Release, ReleaseDetail, StoredEvent } from "./types.ts";

const ENDS = /^(release\.(succeeded|rolled_back|failed|aborted)|rollback\.(completed|failed))$/;

export const releaseDetailPage: Page = (root, ctx, route) => {
  const id = route.param!;
  const head = h("div", { class: "page-head" }, h("h1", {}, `Release ${short(id)}`));
  const summary = h("div", { class: "release-summary", "aria-live": "polite" }, h("p", { class: "muted" }, "Loading…"));
  const steps = h("div", { class: "release-steps" });
  const log = h("ol", { class: "event-log", "aria-label": "Events" });
  put(
    root,
    head,
    summary,
    h("section", { "aria-labelledby": "steps-h" }, h("h2", { id: "steps-h" }, "Steps"), steps),
    h("section", { "aria-labelledby": "log-h" }, h("h2", { id: "log-h" }, "Events"), log),
  );

  let release: Release | undefined;
  const events = new Map<number, StoredEvent>();
  let abortButton: Field | undefined;

  function draw(): void {
    if (!release) return;
    const p = releaseProgress(release, [...events.values()]);
    const running = release.status === "running" || release.status === "rolling_back";
    abortButton =
      running && release.kind === "release" && ctx.can("deployer")
        ? (h("button", { type: "button", class: "danger", onclick: () => void abort() }, "Abort release") as Field)
        : undefined;
    put(
      head,
      h("h1", {}, `${release.kind === "rollback" ? "Rollback" : "Release"} ${short(release.id)} of ${release.worker}`),
      abortButton ?? null,
    );
    put(
      summary,
      h("p", {}, "Status ", badge(p.phase, "release-phase"), release.reason ? ` — ${release.reason}` : ""),
      h(
        "p",
        { class: "muted" },
        `started ${when(release.created_at)} by ${release.created_by ?? "—"} · updated ${when(release.updated_at)}`,
      ),
    );
    put(
      steps,
      h(
        "table",
        { class: "data steps" },
        h("caption", { class: "visually-hidden" }, "Each target's steps"),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { scope: "col" }, "Target"),
            h("th", { scope: "col" }, "Wave"),
            h("th", { scope: "col" }, "Version"),
            h("th", { scope: "col" }, "Steps"),
          ),
        ),
        h(
          "tbody",
          {},
          ...p.targets.map((t) =>
            h(
              "tr",
              { "data-target": t.target },
              h("th", { scope: "row" }, t.target),
              h("td", {}, String(t.wave + 1)),
              h("td", {}, t.versionId ? h("code", {}, short(t.versionId)) : "—"),
              h(
                "td",
                {},
                h(
                  "ol",
                  { class: "step-list" },
                  ...t.steps.map((s) =>
                    h(
                      "li",
                      { class: `step step-${s.state}`, "data-percent": s.percent, "data-state": s.state, title: s.detail ?? "" },
                      `${s.percent}% ${s.state}`,
                    ),
                  ),
                ),
                t.note ? h("span", { class: "muted" }, ` ${t.note}`) : null,
              ),
            ),
          ),
        ),
      ),
    );
    put(
      log,
      ...[...events.values()]
        .sort((a, b) => a.id - b.id)
        .map((e) =>
          h("li", { "data-type": e.type }, h("time", {}, when(e.at)), " ", e.target ? h("strong", {}, e.target) : null, " ", describe(e)),
        ),
    );
  }

  async function abort(): Promise<void> {
    if (
      !release ||
      !(await confirmDialog(
        `Abort release ${short(release.id)}?`,
        [h("p", {}, "Every target it touched returns to its previous version.")],
        "Abort",
      ))
    )
      return;
    try {
      release = await ctx.api.abortRelease(release.id);
      draw();
    } catch (e) {
      summary.append(failure(e));
    }
  }

  async function refresh(): Promise<void> {
    try {
      const d: ReleaseDetail = await ctx.api.getRelease(id);
      release = d.release;
      draw();
    } catch (e) {
      put(summary, failure(e));
    }
  }

  // Live events that arrive while the history loads are kept and merged by id: none is lost or doubled.
  void (async () => {
    try {
      const [d, history]: [ReleaseDetail, StoredEvent[]] = await Promise.all([
        ctx.api.getRelease(id),
        allItems(ctx.api.eventPages({ release: id, limit: 10_000 })),
      ]);
      release = d.release;
      for (const e of history) events.set(e.id, e);
      draw();
    } catch (e) {
      put(summary, failure(e));
    }
  })();

  return {
    onEvent(e) {
      if (e.release_id !== id) return;
      events.set(e.id, e);
      draw();
      if (ENDS.test(e.type)) void refresh();
    },
  };
};
