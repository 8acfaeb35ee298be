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

  async function load(): Promise<void> {
    if (inFlight || disposed) return;
    inFlight = true;
    try {
      const a: ReleaseAnalysis = await ctx.api.releaseAnalysis(id);
      const text = JSON.stringify(a);
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
      timer = state.live && !disposed ? setTimeout(() => void load(), POLL_MS) : undefined;
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
      const wasLive = state.live;
      state = opts;
      // Already reading every second: the next read comes soon enough.
      if (wasLive && opts.live && timer) return;
      void load();
    },
    dispose() {
      disposed = true;
      if (timer) clearTimeout(timer);
    },
  };
}
