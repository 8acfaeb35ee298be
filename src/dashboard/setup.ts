// The setup wizard for a running daemon (GET /v1/setup, POST /v1/setup/:step), shown only when
// the daemon has those routes: each step with its live status, what it found, and the fix when it
// failed. The deployment kit's download sits here too when the daemon offers it.
import type { SetupStep } from "../contract/index.ts";
import type { Field } from "./browser.ts";
import { badge, failure, h, put } from "./dom.ts";
import type { Page } from "./page.ts";

type Step = SetupStep;

const POLL_MS = 1_000;

export const setupPage: Page = (root, ctx) => {
  if (!ctx.features.setup) {
    put(root, h("h1", {}, "Setup"), h("p", { class: "muted" }, "This daemon has no setup wizard; run `cbo init` in a terminal."));
    return {};
  }
  const list = h("ol", { class: "wizard", "aria-live": "polite" }, h("li", { class: "muted" }, "Loading…"));
  const note = h("div", {});
  put(
    root,
    h(
      "div",
      { class: "page-head" },
      h("h1", {}, "Setup"),
      // Admins only, as the header's link: GET /v1/kit refuses anyone else (a download of a 403).
      ctx.features.kit && ctx.can("admin") ? h("a", { class: "button", href: "/v1/kit", download: true }, "Download deployment kit") : null,
    ),
    h(
      "p",
      { class: "muted" },
      "Master key, Cloudflare (or the local edge), targets, tunnel, first release: each step as the daemon sees it now.",
    ),
    list,
    note,
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  let gone = false;

  async function load(): Promise<void> {
    try {
      const s = await ctx.api.setup();
      put(
        list,
        ...s.steps.map((step) =>
          h(
            "li",
            { class: `wizard-step step-${step.status}`, "data-step": step.id, "data-status": step.status },
            h("div", { class: "wizard-head" }, h("strong", {}, step.title), " ", badge(step.status)),
            step.detail ? h("p", {}, step.detail) : null,
            step.fix ? h("p", { class: "fix" }, h("strong", {}, "Fix: "), step.fix) : null,
            ctx.can("admin") && (step.status === "pending" || step.status === "failed")
              ? h(
                  "button",
                  { type: "button", class: "secondary", onclick: (e) => void run(step.id, e.target as Field) },
                  step.status === "failed" ? "Try again" : "Run this step",
                )
              : null,
          ),
        ),
      );
      if (!gone && s.steps.some((x) => x.status === "running")) timer = setTimeout(() => void load(), POLL_MS);
    } catch (e) {
      put(list, h("li", {}, failure(e)));
    }
  }

  async function run(id: Step["id"], button: Field): Promise<void> {
    button.disabled = true;
    put(note);
    try {
      await ctx.api.runSetupStep(id, { input: {} });
    } catch (e) {
      put(note, failure(e));
    }
    await load();
  }

  void load();
  return {
    onEvent: (e) => (e.type === "release.succeeded" || e.type === "release.failed") && void load(),
    dispose: () => {
      gone = true;
      if (timer) clearTimeout(timer);
    },
  };
};
