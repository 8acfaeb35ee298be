// The release page's canary analysis: every analysed step per target (GET /v1/releases/:id/analysis),
// read again every second while the release runs (a running step's numbers change at each gate
// read, which sends no event) and once more when it ends. Redrawn only when the answer changed.
import type { ReleaseAnalysis } from "../contract/index.ts";
import type { El } from "./browser.ts";
import { canaryStep } from "./canary-chart.ts";
import { failure, h, put } from "./dom.ts";
import type { PageCtx } from "./page.ts";

const POLL_MS = 1_000;

export type AnalysisSection = {
  el: El;
  /** Reads the analysis now; keeps reading every second while `live`. */
  refresh(opts: { live: boolean; kind: string; status: string; order: string[] }): void;
  dispose(): void;
};

export function analysisSection(ctx: PageCtx, id: string): AnalysisSection {
  const body = h("div", { class: "canary", "aria-live": "off" }, h("p", { class: "muted" }, "Loading…"));
  const el = h("section", { "aria-labelledby": "canary-h" }, h("h2", { id: "canary-h" }, "Canary against baseline"), body);
  let last = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  let inFlight = false;
  let state = { live: false, kind: "release", status: "running", order: [] as string[] };
  let disposed = false;
  let again = false;
  async function load(): Promise<void> {
    if (disposed) return;
    // A read under way may have started before what the caller knows: one more follows it.
    if (inFlight) return void (again = true);
    inFlight = true;
    again = false;
    try {
      const a: ReleaseAnalysis = await ctx.api.releaseAnalysis(id);
      // What is drawn depends on the release's state too (live or ended).
      const text = JSON.stringify([a, state.live, state.status, state.kind, state.order]);
      if (text !== last) {
        last = text;
        draw(a);
      }
    } catch (e) {
      last = "";
      put(body, h("p", { class: "muted" }, "The canary analysis could not be read: "), failure(e));
    } finally {
      inFlight = false;
      if (timer) clearTimeout(timer);
      timer = undefined;
      if (again) void load();
      else if (state.live && !disposed) timer = setTimeout(() => void load(), POLL_MS);
    }
  }

  function draw(a: ReleaseAnalysis): void {
    if (state.kind === "rollback") return put(body, h("p", { class: "muted" }, "A rollback has no canary steps."));
    if (state.status === "unchanged") return put(body, h("p", { class: "muted" }, "Nothing was released: no step ran."));
    if (!a.enabled)
      return put(
        body,
        h("p", { class: "muted", "data-analysis": "off" }, "Canary analysis is off for this release (rollout.analysis.enabled: false)."),
      );
    if (a.steps.length === 0)
      return put(
        body,
        h(
          "p",
          { class: "muted", "data-analysis": "none" },
          state.live
            ? "No step analysed yet: the first gate has not read the analytics."
            : "No step was analysed: the release ended before a gate read the analytics, or each target was a first deploy (nothing to compare with).",
        ),
      );
    const targets = [...new Set([...state.order.filter((t) => a.steps.some((s) => s.target === t)), ...a.steps.map((s) => s.target)])];
    put(
      body,
      ...targets.map((t) =>
        h(
          "div",
          { class: "canary-target", "data-target": t },
          h("h3", {}, t),
          ...a.steps.filter((s) => s.target === t).map((s) => canaryStep(s)),
        ),
      ),
    );
  }

  return {
    el,
    refresh(opts) {
      state = opts;
      // At once: a step just ended (its final analysis is in the journal now), or the release did.
      void load();
    },
    dispose() {
      disposed = true;
      if (timer) clearTimeout(timer);
    },
  };
}
