// The audit log: search and filter (GET /v1/audit), page back to older entries, and verify the
// hash chain against its signed checkpoints (POST /v1/audit/verify), with the result shown.
import type { El, Field } from "./browser.ts";
import { badge, failure, h, put, table, when } from "./dom.ts";
import { auditQuery, detailLine, type AuditFilter } from "./audit-query.ts";
import { keepQuery, type Page } from "./page.ts";
import type { AuditEntry, AuditVerify } from "./types.ts";

const FIELDS = ["action", "actor", "target", "text"] as const;

export const auditPage: Page = (root, ctx, route) => {
  if (!ctx.can("admin")) {
    put(root, h("h1", {}, "Audit log"), h("p", { class: "muted" }, "The audit log is shown to admins only."));
    return {};
  }
  const inputs = Object.fromEntries(
    FIELDS.map((f) => [
      f,
      h("input", { id: `audit-${f}`, name: f, type: "search", placeholder: f === "action" ? "e.g. release.*" : "" }) as Field,
    ]),
  ) as Record<(typeof FIELDS)[number], Field>;
  const outcome = h(
    "select",
    { id: "audit-outcome", name: "outcome" },
    ...["", "ok", "denied", "error"].map((o) => h("option", { value: o }, o || "any")),
  ) as Field;
  const since = h("input", { id: "audit-since", name: "since", type: "datetime-local" }) as Field;
  const until = h("input", { id: "audit-until", name: "until", type: "datetime-local" }) as Field;
  const results = h("div", { class: "audit-results" });
  const more = h(
    "button",
    { type: "button", class: "secondary", hidden: true, onclick: () => void search(true) },
    "Older entries",
  ) as Field;
  const verifyOut = h("div", { class: "verify-result", role: "status", "aria-live": "polite" });
  const verifyButton = h("button", { type: "button", id: "audit-verify", onclick: () => void verify() }, "Verify the chain") as Field;
  let shown: AuditEntry[] = [];

  const field = (label: string, el: El) => h("div", { class: "field" }, h("label", { for: el.id }, label), el);
  put(
    root,
    h("div", { class: "page-head" }, h("h1", {}, "Audit log"), verifyButton),
    verifyOut,
    h(
      "form",
      { class: "filters", role: "search", "aria-label": "Filter the audit log", onsubmit: (e) => (e.preventDefault(), void search(false)) },
      field("Action", inputs.action),
      field("Actor", inputs.actor),
      field("Target", inputs.target),
      field("Outcome", outcome),
      field("Text", inputs.text),
      field("Since", since),
      field("Until", until),
      h("div", { class: "field" }, h("button", { type: "submit" }, "Search")),
    ),
    results,
    more,
  );

  // A deep link (#/audit?action=release.*&outcome=denied) searches what it names; each search
  // writes its filter back into the address.
  for (const k of FIELDS) inputs[k].value = route.query.get(k) ?? "";
  outcome.value = ["ok", "denied", "error"].includes(route.query.get("outcome") ?? "") ? route.query.get("outcome")! : "";
  since.value = route.query.get("since") ?? "";
  until.value = route.query.get("until") ?? "";

  async function search(older: boolean): Promise<void> {
    if (!older)
      keepQuery({
        ...Object.fromEntries(FIELDS.map((k) => [k, inputs[k].value.trim()])),
        outcome: outcome.value,
        since: since.value,
        until: until.value,
      });
    const f: AuditFilter = {
      ...Object.fromEntries(FIELDS.map((k) => [k, inputs[k].value])),
      outcome: outcome.value,
      since: since.value,
      until: until.value,
      limit: "100",
      ...(older && shown.length ? { beforeSeq: shown[shown.length - 1]!.seq } : {}),
    };
    try {
      const { items: page, next } = await ctx.api.audit(auditQuery(f));
      shown = older ? [...shown, ...page] : page;
      more.hidden = next === undefined;
      put(
        results,
        shown.length === 0
          ? h("p", { class: "muted" }, "No entries match.")
          : table(
              "Audit entries, newest first",
              ["#", "When", "Actor", "Action", "Target", "Outcome", "Details"],
              shown.map((e) => [
                String(e.seq),
                when(e.at),
                e.actor,
                h("code", {}, e.action),
                e.target ?? "",
                badge(e.outcome),
                h("span", { class: "details" }, detailLine(e.details)),
              ]),
              { class: "data", "data-table": "audit" },
            ),
      );
    } catch (e) {
      put(results, failure(e));
    }
  }

  async function verify(): Promise<void> {
    verifyButton.disabled = true;
    put(verifyOut, h("p", { class: "muted" }, "Verifying…"));
    try {
      const r: AuditVerify = await ctx.api.verifyAudit();
      verifyOut.setAttribute("data-verify", r.ok ? "ok" : "failed");
      put(
        verifyOut,
        r.ok
          ? h(
              "p",
              { class: "ok" },
              badge("intact"),
              ` Chain intact: ${r.checked} entries checked against ${r.checkpoints} signed checkpoints; head #${r.head.seq} `,
              h("code", {}, r.head.hash.slice(0, 16)),
            )
          : h(
              "p",
              { class: "error" },
              badge("broken"),
              ` Chain broken at entry #${r.firstBad?.seq ?? "?"}: ${r.firstBad?.reason ?? ""} — ${r.firstBad?.message ?? ""}`,
            ),
      );
    } catch (e) {
      verifyOut.setAttribute("data-verify", "error");
      put(verifyOut, failure(e));
    } finally {
      verifyButton.disabled = false;
    }
  }

  void search(false);
  return {};
};
