// Building the page: elements from a tag, attributes and children, text always as text nodes
// (never innerHTML, so nothing the API returns can become markup), SVG in its namespace.
import { isCboError } from "../kit/errors.ts";
import { doc, type Dialog, type El, type Listener } from "./browser.ts";

export type Child = El | string | number | null | undefined | false;
/** `onclick: fn` adds a listener; `true` sets an empty (boolean) attribute; null/undefined/false skip it. */
export type Attrs = Record<string, string | number | boolean | null | undefined | Listener>;

const SVG_NS = "http://www.w3.org/2000/svg";

function fill(el: El, attrs: Attrs, children: Child[]): El {
  for (const [k, v] of Object.entries(attrs)) {
    if (typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, "");
    else if (v !== false && v !== null && v !== undefined) el.setAttribute(k, String(v));
  }
  el.append(...nodes(children));
  return el;
}

const nodes = (children: Child[]): Array<El | string> =>
  children
    .filter((c): c is El | string | number => c !== null && c !== undefined && c !== false)
    .map((c) => (typeof c === "number" ? String(c) : c));

/** An HTML element. */
export const h = (tag: string, attrs: Attrs = {}, ...children: Child[]): El => fill(doc().createElement(tag), attrs, children);

/** An SVG element. */
export const svg = (tag: string, attrs: Attrs = {}, ...children: Child[]): El => fill(doc().createElementNS(SVG_NS, tag), attrs, children);

/** Replaces an element's children. */
export const put = (el: El, ...children: Child[]): void => el.replaceChildren(...nodes(children));

/** The first 8 characters of an id: enough to tell ids apart on screen. */
export const short = (id: string | null | undefined): string => (id ? id.slice(0, 8) : "—");

/** `2025-06-01 12:34:56` in the viewer's time zone. */
export function when(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** A status word as a badge: the class carries the colour, the text the meaning (not colour alone). */
export const badge = (status: string, extra = ""): El =>
  h("span", { class: `badge badge-${status.replace(/[^a-z_-]/gi, "")}${extra ? " " + extra : ""}` }, status.replace(/_/g, " "));

/** A table with a header row; `rows` are lists of cells. */
export function table(caption: string, head: string[], rows: Child[][], attrs: Attrs = {}): El {
  return h(
    "table",
    attrs,
    h("caption", { class: "visually-hidden" }, caption),
    h("thead", {}, h("tr", {}, ...head.map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, ...rows.map((r) => h("tr", {}, ...r.map((c) => h("td", {}, c))))),
  );
}

/**
 * A message for a failed load or action, in a live region so that screen readers hear it: the
 * API's code and message, and its hint (what to do about it) when it sends one.
 */
export const failure = (e: unknown): El =>
  isCboError(e)
    ? h(
        "p",
        { class: "error", role: "alert", "data-code": e.code },
        `${e.code}: ${e.message}`,
        e.hint ? h("span", { class: "hint" }, ` Hint: ${e.hint}`) : null,
      )
    : h("p", { class: "error", role: "alert" }, e instanceof Error ? e.message : String(e));

/**
 * Gives the focus back to the button that started an action, when nothing holds it any more: the
 * button was disabled while the action ran (which drops its focus) and a keyboard user would
 * otherwise start again from the top of the page.
 */
export function refocus(el: El): void {
  const active = doc().activeElement;
  if (active === null || active === doc().body) el.focus();
}

/**
 * Asks before something that cannot be taken back: a modal <dialog> (focus stays in it, Escape
 * cancels). Resolves true only when the confirm button is pressed.
 */
export function confirmDialog(title: string, body: Child[], confirmLabel: string): Promise<boolean> {
  return new Promise((resolve) => {
    const dialog = h("dialog", { class: "confirm", "aria-labelledby": "confirm-title" }) as Dialog;
    const done = (ok: boolean) => {
      if (dialog.open) dialog.close();
      dialog.remove();
      resolve(ok);
    };
    put(
      dialog,
      h("h2", { id: "confirm-title" }, title),
      h("div", {}, ...body),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", class: "secondary", onclick: () => done(false) }, "Cancel"),
        h("button", { type: "button", class: "danger", "data-confirm": true, onclick: () => done(true) }, confirmLabel),
      ),
    );
    dialog.addEventListener("cancel", () => done(false));
    doc().body.append(dialog);
    dialog.showModal();
  });
}
