// The release page's steps: one row per target (in wave order), its steps and `pause:` steps as
// they start, pass, fail or wait, and what it waits for now.
import { waitPlace } from "../contract/index.ts";
import type { El } from "./browser.ts";
import { h, short } from "./dom.ts";
import type { Progress, TargetProgress } from "./release-steps.ts";

const WAITS: Record<string, string> = {
  approval: "waiting for approval",
  timer: "in a timed pause",
  manual: "held: the release is paused",
  data: "waiting for analytics",
};

export function stepsTable(p: Progress): El {
  return h(
    "table",
    { class: "data steps" },
    h("caption", { class: "visually-hidden" }, "Each target's steps"),
    h("thead", {}, h("tr", {}, ...["Target", "Wave", "Version", "Steps"].map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, ...p.targets.map(row)),
  );
}

function row(t: TargetProgress): El {
  return h(
    "tr",
    { "data-target": t.target, ...(t.waiting ? { "data-waiting": t.waiting.kind } : {}) },
    h("th", { scope: "row" }, t.target),
    h("td", {}, String(t.wave + 1)),
    h("td", {}, t.versionId ? h("code", {}, short(t.versionId)) : "—"),
    h(
      "td",
      {},
      h(
        "ol",
        { class: "step-list" },
        ...t.steps.flatMap((s) => [
          h(
            "li",
            { class: `step step-${s.state}`, "data-percent": s.percent, "data-state": s.state, title: s.detail ?? "" },
            `${s.percent}% ${s.state}`,
          ),
          ...t.pauses
            .filter((x) => x.after === s.percent)
            .map((x) =>
              h(
                "li",
                { class: `step pause pause-${x.state}`, "data-pause": x.kind, "data-after": x.after, "data-state": x.state },
                `${x.label} ${x.state}`,
              ),
            ),
        ]),
      ),
      t.waiting
        ? h(
            "span",
            { class: "waiting" },
            ` ${WAITS[t.waiting.kind] ?? t.waiting.kind} ${waitPlace(t.waiting.percent, "at")}`,
            t.waiting.until ? ` until ${new Date(t.waiting.until).toTimeString().slice(0, 8)}` : "",
          )
        : null,
      t.note ? h("span", { class: "muted" }, ` ${t.note}`) : null,
    ),
  );
}
