// Releases: the list (new ones appear as they start), a release started after its plan and diff
// are reviewed (release-start.ts), and rollback of a worker to a version it ran before, chosen
// from its versions and confirmed in a dialog. Both forms only for deployers.
import type { El, Field } from "./browser.ts";
import { badge, confirmDialog, failure, h, put, refocus, short, table, when } from "./dom.ts";
import { liveList, workerFilter } from "./list-page.ts";
import { keepQuery, type Page, type PageCtx } from "./page.ts";
import { releaseStartForm } from "./release-start.ts";
import type { Release, VersionEntry, WorkerSummary } from "./types.ts";
import { rollbackPreviewLines, type RollbackPreview } from "../contract/index.ts";

const LIST_ON = /^(release\.(created|succeeded|rolled_back|failed|aborted|rolling_back|recovered|unchanged|paused|resumed)|rollback\.)/;

export const releasesPage: Page = (root, ctx, route) => {
  let worker = route.query.get("worker") ?? "";
  const list = h("div", { class: "releases-list" }, h("p", { class: "muted" }, "Loading…"));
  const filter = workerFilter(ctx, "release-filter", worker, (w) => {
    worker = w;
    keepQuery({ worker });
    void load();
  });
  put(
    root,
    h("div", { class: "page-head" }, h("h1", {}, "Releases"), h("label", { for: "release-filter" }, "Show ", filter)),
    ctx.can("deployer") ? releaseStartForm(ctx, () => worker) : null,
    ctx.can("deployer") ? rollbackForm(ctx, () => worker) : null,
    h("section", { "aria-labelledby": "releases-h" }, h("h2", { id: "releases-h" }, "Releases and rollbacks"), list),
  );

  async function load(): Promise<void> {
    try {
      const rows: Release[] = (await ctx.api.releases({ ...(worker ? { worker } : {}), limit: 50 })).items;
      put(
        list,
        rows.length === 0
          ? h("p", { class: "muted" }, "No releases yet.")
          : table(
              "Releases, newest first",
              ["Release", "Worker", "Kind", "Status", "By", "Started", "Reason"],
              rows.map((r) => [
                h("a", { href: `#/releases/${r.id}`, "data-release": r.id }, short(r.id)),
                r.worker,
                r.kind,
                badge(r.status),
                r.created_by ?? "—",
                when(r.created_at),
                r.reason ?? "",
              ]),
              { class: "data" },
            ),
      );
    } catch (e) {
      put(list, failure(e));
    }
  }
  return liveList(load, LIST_ON);
};

type Choice = { value: string; label: string; live: boolean; versions: VersionEntry[] };

/** Versions grouped by the release that uploaded them: rolling back to a release id restores every target at once. */
export function rollbackChoices(versions: VersionEntry[], releases: Release[]): Choice[] {
  const status = new Map(releases.map((r) => [r.id, r.status]));
  const groups = new Map<string, VersionEntry[]>();
  for (const v of versions) {
    // Only a succeeded release's id means "the versions it shipped"; other versions go by their own id.
    const k = v.releaseId && status.get(v.releaseId) === "succeeded" ? v.releaseId : `version:${v.versionId}`;
    groups.set(k, [...(groups.get(k) ?? []), v]);
  }
  return [...groups].map(([k, vs]) => {
    const live = vs.every((v) => v.live);
    const where = vs.map((v) => `${v.target} ${short(v.versionId)}`).join(", ");
    const label = k.startsWith("version:")
      ? `version ${short(vs[0]!.versionId)} · ${when(vs[0]!.createdAt)} · ${where}`
      : `release ${short(k)} · ${when(vs[0]!.createdAt)} · ${where}`;
    return { value: k.startsWith("version:") ? vs[0]!.versionId : k, label: live ? `${label} (live)` : label, live, versions: vs };
  });
}

function rollbackForm(ctx: PageCtx, current: () => string): El {
  const workerSel = h("select", { id: "rollback-worker", name: "worker", required: true }) as Field;
  const toSel = h("select", { id: "rollback-to", name: "to", required: true, disabled: true }) as Field;
  const button = h("button", { type: "submit", disabled: true }, "Roll back…") as Field;
  const note = h("p", { class: "muted", "aria-live": "polite" });
  let choices: Choice[] = [];

  async function loadChoices(): Promise<void> {
    const w = workerSel.value;
    toSel.disabled = button.disabled = true;
    put(toSel);
    if (!w) return;
    try {
      const [versions, releases]: [VersionEntry[], Release[]] = await Promise.all([
        ctx.api.versions(w).then((p) => p.items),
        ctx.api.releases({ worker: w, limit: 1000 }).then((p) => p.items),
      ]);
      choices = rollbackChoices(versions, releases);
      put(toSel, ...choices.map((c) => h("option", { value: c.value }, c.label)));
      const firstOld = choices.find((c) => !c.live);
      if (firstOld) toSel.value = firstOld.value;
      toSel.disabled = button.disabled = choices.length === 0;
      put(note, choices.length === 0 ? "No earlier versions to go back to." : "");
    } catch (e) {
      put(note, failure(e));
    }
  }

  // One rollback at a time: a double click (or Enter pressed twice) while the preview loads or a
  // dialog is open must not ask twice, nor start two rollbacks.
  let busy = false;
  async function submit(): Promise<void> {
    if (busy) return;
    busy = true;
    button.disabled = true;
    try {
      await confirmAndRollBack();
    } finally {
      busy = false;
      button.disabled = choices.length === 0;
      refocus(button);
    }
  }

  async function confirmAndRollBack(): Promise<void> {
    const w = workerSel.value;
    const choice = choices.find((c) => c.value === toSel.value);
    if (!w || !choice) return;
    put(note);
    // The daemon's preview: per target the code, secret and config versions, and the schema that stays.
    let preview: RollbackPreview;
    try {
      preview = await ctx.api.rollbackPreview(w, choice.value);
    } catch (e) {
      put(note, failure(e));
      return;
    }
    if (preview.refused) {
      put(note, `Refused: ${preview.refused}.`);
      return;
    }
    const ok = await confirmDialog(
      `Roll back ${w}?`,
      [
        h("pre", { class: "preview" }, rollbackPreviewLines(preview).join("\n")),
        h("p", {}, "A rollback skips the canary steps and gates."),
      ],
      "Roll back",
    );
    if (!ok) return;
    // The same confirmations the CLI and MCP need, each asked on its own.
    if (
      preview.needs.confirmSecretDowngrade &&
      !(await confirmDialog(
        "Downgrade secrets?",
        [h("p", {}, "This rollback pins an older secret version on some targets (see DOWNGRADE in the preview).")],
        "Downgrade",
      ))
    )
      return;
    if (
      preview.needs.force &&
      !(await confirmDialog(
        "Roll back onto an incompatible schema?",
        [h("p", {}, "A newer migration is marked -- cbo:breaks-rollback: the old code may fail on the schema that stays.")],
        "Roll back anyway",
      ))
    )
      return;
    try {
      const r: Release = await ctx.api.rollback(w, choice.value, {
        ...(preview.needs.confirmSecretDowngrade ? { confirm_secret_downgrade: true } : {}),
        ...(preview.needs.force ? { force: true } : {}),
      });
      ctx.go(`#/releases/${r.id}`);
    } catch (e) {
      put(note, failure(e));
    }
  }

  workerSel.addEventListener("change", () => void loadChoices());
  void ctx.api.workers().then(
    (ws: WorkerSummary[]) => {
      put(workerSel, h("option", { value: "" }, "choose a worker"), ...ws.map((w) => h("option", { value: w.name }, w.name)));
      workerSel.value = ws.some((w) => w.name === current()) ? current() : "";
      void loadChoices();
    },
    (e: unknown) => put(note, failure(e)),
  );

  return h(
    "section",
    { "aria-labelledby": "rollback-h", class: "panel" },
    h("h2", { id: "rollback-h" }, "Roll back"),
    h(
      "form",
      { class: "inline", onsubmit: (e) => (e.preventDefault(), void submit()) },
      h("label", { for: "rollback-worker" }, "Worker"),
      workerSel,
      h("label", { for: "rollback-to" }, "to"),
      toSel,
      button,
    ),
    note,
  );
}
