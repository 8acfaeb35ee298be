// One release, live: every target's steps as they start, pass, fail or wait (release.* events),
// the canary against the baseline per step (release-analysis.ts), the event log, and the control
// buttons its state allows (release-controls.ts): promote, pause, resume, abort. A viewer sees no
// buttons; the API refuses it anyway.
import { allItems } from "../client/index.ts";
import type { ReleaseControl } from "../contract/index.ts";
import { doc } from "./browser.ts";
import { badge, confirmDialog, failure, h, put, short, when } from "./dom.ts";
import type { Page } from "./page.ts";
import { analysisSection } from "./release-analysis.ts";
import { controlActions, waitingWords, type ControlAction } from "./release-controls.ts";
import { describe, releaseProgress } from "./release-steps.ts";
import { stepsTable } from "./release-steps-table.ts";
import type { Release, ReleaseDetail, StoredEvent } from "./types.ts";

const ENDS = /^(release\.(succeeded|rolled_back|failed|aborted|unchanged)|rollback\.(completed|failed))$/;
/** Events after which what the release waits for may have changed. */
const CONTROL_ON = /^release\.(paused|resumed|promoted|waiting|wait\.ended|step\.(started|passed|failed)|rolling_back)$/;
const STEP_ON = /^release\.step\./;
const CONTROL_POLL_MS = 2_000;
const LABELS: Record<ControlAction, string> = { promote: "Promote", pause: "Pause", resume: "Resume", abort: "Abort release" };

export const releaseDetailPage: Page = (root, ctx, route) => {
  const id = route.param!;
  const title = h("h1", {}, `Release ${short(id)}`);
  // The buttons live in their own slot, built again only when the set of actions changes: the page
  // draws on every event and every control read (each 2 s while it runs), and a button built anew
  // each time lost a keyboard user's focus, and a click whose press and release straddled a draw.
  const controlsSlot = h("div", { class: "controls-slot" });
  const head = h("div", { class: "page-head" }, title, controlsSlot);
  let shownActions = "";
  const summary = h("div", { class: "release-summary", "aria-live": "polite" }, h("p", { class: "muted" }, "Loading…"));
  const notice = h("div", { class: "release-notice", role: "status" });
  const steps = h("div", { class: "release-steps" });
  const log = h("ol", { class: "event-log", "aria-label": "Events" });
  const analysis = analysisSection(ctx, id);
  put(
    root,
    head,
    summary,
    notice,
    h("section", { "aria-labelledby": "steps-h" }, h("h2", { id: "steps-h" }, "Steps"), steps),
    analysis.el,
    h("section", { "aria-labelledby": "log-h" }, h("h2", { id: "log-h" }, "Events"), log),
  );

  let release: Release | undefined;
  let control: ReleaseControl | undefined;
  let busy = false;
  const events = new Map<number, StoredEvent>();

  function draw(): void {
    if (!release) return;
    const p = releaseProgress(release, [...events.values()]);
    // An end event ends the buttons at once, before the record is read again.
    const actions = p.ended ? [] : controlActions(release, control, ctx.can("deployer"));
    put(title, `${release.kind === "rollback" ? "Rollback" : "Release"} ${short(release.id)} of ${release.worker}`);
    drawControls(actions);
    const paused = control?.paused ?? p.paused;
    const waits = waitingWords(control);
    put(
      summary,
      h(
        "p",
        {},
        "Status ",
        badge(p.phase, "release-phase"),
        paused && !p.ended ? " " : null,
        paused && !p.ended ? badge("paused", "release-paused") : null,
        release.reason ? ` — ${release.reason}` : "",
      ),
      paused && !p.ended
        ? h("p", { class: "paused-by" }, `Paused by ${control?.pausedBy ?? "someone"}: no target starts another step until resume.`)
        : null,
      waits.length && !p.ended ? h("ul", { class: "waits" }, ...waits.map((w) => h("li", {}, w))) : null,
      h(
        "p",
        { class: "muted" },
        `started ${when(release.created_at)} by ${release.created_by ?? "—"} · updated ${when(release.updated_at)}`,
      ),
    );
    put(steps, stepsTable(p));
    put(
      log,
      ...[...events.values()]
        .sort((a, b) => a.id - b.id)
        .map((e) =>
          h("li", { "data-type": e.type }, h("time", {}, when(e.at)), " ", e.target ? h("strong", {}, e.target) : null, " ", describe(e)),
        ),
    );
  }

  function drawControls(actions: ControlAction[]): void {
    const key = actions.join(",");
    if (key !== shownActions) {
      shownActions = key;
      // The button that had the focus, or the one that takes its place (pause <-> resume).
      const active = doc().activeElement;
      const had = active && controlsSlot.contains(active) ? (active.getAttribute("data-control") as ControlAction | null) : null;
      put(
        controlsSlot,
        actions.length
          ? h(
              "div",
              { class: "release-controls", role: "group", "aria-label": "Control this release" },
              ...actions.map((a) =>
                h(
                  "button",
                  {
                    type: "button",
                    class: a === "abort" ? "danger" : a === "promote" ? undefined : "secondary",
                    "data-control": a,
                    onclick: () => void act(a),
                  },
                  LABELS[a],
                ),
              ),
            )
          : null,
      );
      if (had) {
        const twin = had === "pause" ? "resume" : had === "resume" ? "pause" : had;
        const at = (a: string) => controlsSlot.querySelector(`button[data-control="${a}"]`);
        (at(had) ?? at(twin) ?? controlsSlot.querySelector("button"))?.focus();
      }
    }
    // aria-disabled, not disabled: a disabled button drops the focus (act() ignores a press while busy).
    for (const b of Array.from(controlsSlot.querySelectorAll("button")))
      busy ? b.setAttribute("aria-disabled", "true") : b.removeAttribute("aria-disabled");
  }

  const running = () => release?.status === "running" || release?.status === "rolling_back";
  const order = () => (release ? releaseProgress(release, []).targets.map((t) => t.target) : []);
  const refreshAnalysis = () =>
    release && analysis.refresh({ live: running(), kind: release.kind, status: release.status, order: order() });

  // What the release waits for: read again after each event that may change it, and every 2 s
  // while it runs (a wait for analytics sends no event). Answers can cross on the wire: only the
  // newest request's answer (or a control button's) is taken.
  let controlSeq = 0;
  let controlTimer: ReturnType<typeof setTimeout> | undefined;
  let disposed = false;
  async function readControl(): Promise<void> {
    if (release?.kind !== "release" || disposed) return;
    const mine = ++controlSeq;
    if (controlTimer) clearTimeout(controlTimer);
    let next: ReleaseControl | undefined;
    try {
      next = await ctx.api.releaseControl(id);
    } catch {
      next = undefined; // an older daemon: the buttons fall back to abort alone
    }
    if (mine !== controlSeq) return;
    control = next;
    draw();
    if (running() && !disposed) controlTimer = setTimeout(() => void readControl(), CONTROL_POLL_MS);
  }

  async function act(a: ControlAction): Promise<void> {
    if (!release || busy) return;
    if (a === "abort" || a === "promote") {
      const body =
        a === "abort"
          ? [h("p", {}, "Every target it touched returns to its previous version.")]
          : [
              h("p", {}, "These targets go on past their pause step:"),
              h(
                "ul",
                {},
                ...(control?.waiting ?? [])
                  .filter((w) => w.kind === "approval" || w.kind === "timer")
                  .map((w) => h("li", {}, `${w.target} (at ${w.percent}%)`)),
              ),
            ];
      if (!(await confirmDialog(`${a === "abort" ? "Abort" : "Promote"} release ${short(release.id)}?`, body, LABELS[a]))) return;
    }
    busy = true;
    put(notice);
    draw();
    try {
      if (a === "abort") release = await ctx.api.abortRelease(release.id);
      else {
        const call = { promote: ctx.api.promoteRelease, pause: ctx.api.pauseRelease, resume: ctx.api.resumeRelease }[a];
        controlSeq++;
        const r = await call(release.id);
        release = r.release;
        control = r.control;
      }
    } catch (e) {
      put(notice, failure(e));
    } finally {
      busy = false;
      draw();
      // The answer above is the newest state; reads go on from it.
      if (controlTimer) clearTimeout(controlTimer);
      if (running() && !disposed) controlTimer = setTimeout(() => void readControl(), CONTROL_POLL_MS);
    }
  }

  async function refresh(): Promise<void> {
    try {
      const d: ReleaseDetail = await ctx.api.getRelease(id);
      release = d.release;
      if (!running()) control = undefined;
      draw();
      refreshAnalysis();
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
      refreshAnalysis();
      if (running()) await readControl();
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
      else {
        if (CONTROL_ON.test(e.type) && running()) void readControl();
        if (STEP_ON.test(e.type)) refreshAnalysis();
      }
    },
    dispose() {
      disposed = true;
      if (controlTimer) clearTimeout(controlTimer);
      analysis.dispose();
    },
  };
};
