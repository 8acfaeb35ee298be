// Publishing a worker's signed config from the dashboard (deployers): the config diff per target
// (each key path, published value against the spec's, secrets masked) is shown in a confirmation
// dialog first; confirming publishes it (POST /v1/workers/:name/config/publish). With no change
// anywhere the dialog says so, and confirming re-signs and re-sends the same config (force).
import { formatConfigChange, type ConfigDiff } from "../contract/index.ts";
import type { El, Field } from "./browser.ts";
import { confirmDialog, failure, h, put, refocus } from "./dom.ts";
import type { PageCtx } from "./page.ts";

export function configPublishControl(ctx: PageCtx, worker: () => string, published: () => void): { el: El; enable(on: boolean): void } {
  const note = h("span", { class: "publish-note", role: "status" });
  const button = h(
    "button",
    { type: "button", id: "config-publish", disabled: true, onclick: () => void publish() },
    "Publish config…",
  ) as Field;

  async function publish(): Promise<void> {
    const w = worker();
    if (!w) return;
    button.disabled = true;
    put(note);
    try {
      const diff: ConfigDiff[] = await ctx.api.configDiff(w);
      const changed = diff.some((d) => d.changed);
      const ok = await confirmDialog(
        `Publish the config of ${w}?`,
        [
          changed
            ? h("p", {}, "Each target gets a new signed version; its agents apply it at once:")
            : h("p", {}, "Nothing changed since the version published last: publishing re-signs and re-sends it to every target."),
          ...diff.map((d) =>
            h(
              "div",
              { class: "config-changes", "data-target": d.target },
              h(
                "h3",
                {},
                `${d.target} `,
                h("span", { class: "muted" }, d.published ? `now v${d.published.version}` : "nothing published yet"),
              ),
              d.changes.length
                ? h("ul", {}, ...d.changes.map((c) => h("li", {}, h("code", {}, formatConfigChange(c)))))
                : h("p", { class: "muted" }, "no change"),
            ),
          ),
        ],
        "Publish",
      );
      if (!ok) return;
      const r = await ctx.api.configPublish(w, changed ? {} : { force: true });
      put(
        note,
        `Published v${r.version} to ${r.targets.map((t) => `${t.target}${t.written ? "" : " (not written: retried at the next publish)"}`).join(", ")}.`,
      );
      published();
    } catch (e) {
      put(note, failure(e));
    } finally {
      button.disabled = false;
      refocus(button);
    }
  }

  return {
    el: h("div", { class: "publish" }, button, note),
    enable(on) {
      button.disabled = !on;
    },
  };
}
