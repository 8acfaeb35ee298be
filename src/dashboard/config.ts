// Config versions of a worker (history and, per target, what is published, written and applied),
// publishing it after its diff is confirmed (deployers, config-publish.ts), and drift for every
// worker and target (the status' drift field: desired against observed).
import { isCboError } from "../kit/errors.ts";
import type { Field } from "./browser.ts";
import { badge, failure, h, put, short, table, when } from "./dom.ts";
import { configPublishControl } from "./config-publish.ts";
import { debounce, keepQuery, type Page } from "./page.ts";
import type { Status, WorkerSummary } from "./types.ts";

const RELOAD_ON = /^(config\.|drift\.|release\.succeeded|rollback\.completed)/;

export const configPage: Page = (root, ctx, route) => {
  const workerSel = h("select", {
    id: "config-worker",
    onchange: () => {
      keepQuery({ worker: workerSel.value });
      void loadWorker();
    },
  }) as Field;
  const history = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  const diff = h("div", {});
  const drift = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  const publish = ctx.can("deployer")
    ? configPublishControl(
        ctx,
        () => workerSel.value,
        () => void loadWorker(),
      )
    : undefined;
  put(
    root,
    h(
      "div",
      { class: "page-head" },
      h("h1", {}, "Config and drift"),
      h("label", { for: "config-worker" }, "Worker ", workerSel),
      publish?.el ?? null,
    ),
    h("section", { "aria-labelledby": "cfg-diff-h" }, h("h2", { id: "cfg-diff-h" }, "Per target"), diff),
    h("section", { "aria-labelledby": "cfg-hist-h" }, h("h2", { id: "cfg-hist-h" }, "Config versions"), history),
    h("section", { "aria-labelledby": "drift-h" }, h("h2", { id: "drift-h" }, "Drift (desired against what the edge runs)"), drift),
  );

  const noAgent = new Set<string>();
  const noConfig = (w: string) => h("p", { class: "muted" }, `${w} does not run the edge agent, so it has no signed config.`);

  async function loadWorker(): Promise<void> {
    const w = workerSel.value;
    publish?.enable(false);
    if (!w) return;
    // A worker without the edge agent has no signed config: a fact about it, not a failure (and
    // not a question to ask the daemon, whose refusal would be an error in the console).
    if (noAgent.has(w)) return void (put(history, noConfig(w)), put(diff));
    try {
      const [hist, d] = await Promise.all([ctx.api.configHistory(w), ctx.api.configDiff(w)]);
      publish?.enable(true);
      put(
        history,
        hist.length === 0
          ? h("p", { class: "muted" }, "No config published yet.")
          : table(
              "Config versions, newest first",
              ["Version", "Hash", "Rollback of", "Published", "By", "Targets"],
              hist.map((v) => [
                `v${v.version}`,
                h("code", {}, short(v.hash)),
                v.rollbackOf ? `v${v.rollbackOf}` : "",
                when(v.createdAt),
                v.createdByToken ? h("span", { title: `token ${v.createdByToken}` }, v.createdBy ?? "—") : (v.createdBy ?? "—"),
                v.targets.join(", "),
              ]),
              { class: "data" },
            ),
      );
      put(
        diff,
        table(
          "Config per target",
          ["Target", "Published", "Spec differs", "In KV", "Applied by agents"],
          d.map((t) => [
            t.target,
            t.published ? `v${t.published.version}` : "none",
            t.changed ? badge("changed") : "no",
            t.written ? `v${t.written}` : "—",
            t.applied ? badge("applied") : badge("pending"),
          ]),
          { class: "data" },
        ),
      );
    } catch (e) {
      // A worker without the edge agent has no signed config: a fact about it, not a failure.
      put(history, isCboError(e) && e.code === "ERR_VALIDATION" ? noConfig(w) : failure(e));
      put(diff);
    }
  }

  async function loadDrift(): Promise<void> {
    try {
      const s: Status = await ctx.api.status();
      const rows = s.workers.flatMap((w) =>
        w.targets.map((t) => [
          w.name,
          t.target,
          badge(t.drift?.status ?? "unknown"),
          (t.drift?.kinds ?? []).join(", "),
          t.drift?.detail ?? t.drift?.note ?? "",
          when(t.drift?.since),
          when(t.drift?.checkedAt),
        ]),
      );
      put(
        drift,
        table("Drift per worker and target", ["Worker", "Target", "Drift", "What", "Detail", "Since", "Checked"], rows, { class: "data" }),
      );
    } catch (e) {
      put(drift, failure(e));
    }
  }

  void ctx.api.workers().then(
    (ws: WorkerSummary[]) => {
      // Workers that run the edge agent first (when the daemon says which): only they have config.
      for (const w of ws) if (w.agent === false) noAgent.add(w.name);
      const ordered = [...ws.filter((w) => w.agent !== false), ...ws.filter((w) => w.agent === false)];
      put(workerSel, ...ordered.map((w) => h("option", { value: w.name }, w.agent === false ? `${w.name} (no agent)` : w.name)));
      const wanted = route.query.get("worker");
      if (wanted && ws.some((w) => w.name === wanted)) workerSel.value = wanted;
      void loadWorker();
    },
    (e: unknown) => put(history, failure(e)),
  );
  void loadDrift();
  const reload = debounce(() => (void loadWorker(), void loadDrift()), 300);
  return { onEvent: (e) => RELOAD_ON.test(e.type) && reload(), dispose: () => reload.cancel() };
};
