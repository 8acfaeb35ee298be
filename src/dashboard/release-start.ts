// Starting a release from the dashboard (deployers): choose a worker, review what the release
// would change (the diff, per target, against what it runs now) and do (the plan), then start it.
// Nothing starts before the review is on screen. A worker that runs this already says so (the
// release would end `unchanged`) and needs "release anyway" (force); a release window that denies
// releases now asks for a reason to override it (audited).
import { isCboError } from "../kit/errors.ts";
import type { El, Field } from "./browser.ts";
import { failure, h, put } from "./dom.ts";
import type { PageCtx } from "./page.ts";
import { diffView, planView } from "./plan-view.ts";
import type { Release, WorkerSummary } from "./types.ts";

export function releaseStartForm(ctx: PageCtx, current: () => string): El {
  const workerSel = h("select", { id: "release-worker", name: "worker", required: true }) as Field;
  const review = h("button", { type: "submit", id: "release-review", disabled: true }, "Review release…") as Field;
  const out = h("div", { class: "release-review", "aria-live": "polite" });
  let seq = 0;

  async function show(): Promise<void> {
    const w = workerSel.value;
    if (!w) return;
    const mine = ++seq;
    review.disabled = true;
    put(out, h("p", { class: "muted" }, `Planning a release of ${w}: reading what each target runs now…`));
    try {
      const plan = await ctx.api.plan(w);
      if (mine !== seq) return;
      const diff = plan.diff;
      const force = h("input", { type: "checkbox", id: "release-force" }) as Field;
      const start = h(
        "button",
        { type: "button", id: "release-start", "data-start": w, onclick: () => void begin(w, force.checked, startError) },
        "Start release",
      ) as Field;
      const cancel = h("button", { type: "button", class: "secondary", onclick: () => put(out) }, "Cancel");
      // A failed start says why here, replacing the previous failure rather than adding to it.
      const startError = h("div", { "data-start-error": "" });
      const unchanged = diff !== undefined && !diff.changed;
      if (unchanged) start.disabled = true;
      force.addEventListener("change", () => (start.disabled = unchanged && !force.checked));
      put(
        out,
        h("h3", {}, `What a release of ${w} changes`),
        diff ? diffView(diff) : h("p", { class: "muted" }, "This daemon sends no diff with its plan."),
        unchanged
          ? h(
              "p",
              { class: "unchanged", "data-unchanged": "" },
              "Nothing to release: every target runs this already, so a release would end unchanged and touch nothing. ",
              h("label", { for: "release-force" }, force, " Release anyway (new versions everywhere)"),
            )
          : null,
        h("h3", {}, "What it does"),
        planView(plan),
        h("p", { class: "muted" }, "It plans again when it starts: what changed since is released too."),
        h("div", { class: "actions" }, cancel, start),
        startError,
      );
    } catch (e) {
      if (mine === seq) put(out, failure(e));
    } finally {
      if (mine === seq) review.disabled = false;
    }
  }

  async function begin(w: string, force: boolean, errorSlot: El, overrideReason?: string): Promise<void> {
    for (const b of Array.from(out.querySelectorAll("button")) as Field[]) b.disabled = true;
    try {
      const r: Release = await ctx.api.release(w, {
        ...(force ? { force: true } : {}),
        ...(overrideReason ? { overrideWindow: { reason: overrideReason } } : {}),
      });
      ctx.go(`#/releases/${r.id}`);
    } catch (e) {
      if (isCboError(e) && e.code === "ERR_RELEASE_WINDOW") return windowRefused(w, force, e);
      put(errorSlot, failure(e));
      for (const b of Array.from(out.querySelectorAll("button")) as Field[]) b.disabled = false;
    }
  }

  /** A release window denies releases now: going ahead needs a reason, kept in the audit. */
  function windowRefused(w: string, force: boolean, e: unknown): void {
    const reason = h("input", { type: "text", id: "release-window-reason", required: true, maxlength: 500, size: 40 }) as Field;
    const windowError = h("div", { "data-start-error": "" });
    put(
      out,
      failure(e),
      h(
        "form",
        {
          class: "inline",
          onsubmit: (ev) => {
            ev.preventDefault();
            if (reason.value.trim()) void begin(w, force, windowError, reason.value.trim());
          },
        },
        h("label", { for: "release-window-reason" }, "Why it may run now (audited)"),
        reason,
        h("button", { type: "submit", class: "danger" }, "Release outside the window"),
        h("button", { type: "button", class: "secondary", onclick: () => put(out) }, "Cancel"),
      ),
      windowError,
    );
  }

  workerSel.addEventListener("change", () => {
    seq++;
    put(out);
    review.disabled = !workerSel.value;
  });
  void ctx.api.workers().then(
    (ws: WorkerSummary[]) => {
      put(workerSel, h("option", { value: "" }, "choose a worker"), ...ws.map((w) => h("option", { value: w.name }, w.name)));
      workerSel.value = ws.some((w) => w.name === current()) ? current() : "";
      review.disabled = !workerSel.value;
    },
    (e: unknown) => put(out, failure(e)),
  );

  return h(
    "section",
    { "aria-labelledby": "release-start-h", class: "panel" },
    h("h2", { id: "release-start-h" }, "Start a release"),
    h(
      "form",
      { class: "inline", onsubmit: (e) => (e.preventDefault(), void show()) },
      h("label", { for: "release-worker" }, "Worker"),
      workerSel,
      review,
    ),
    out,
  );
}
