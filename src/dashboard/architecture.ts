// The architecture view: the VPS (the daemon), the tunnel, each region/account, each Worker with
// its live version, health, drift and a restore still pending, drawn as SVG. A health.changed event
// recolours its Worker at once (one attribute change, no reload); releases, rollbacks, owed
// restores and drift reload the status.
import type { El } from "./browser.ts";
import { layoutArchitecture, linkPath, GEOMETRY } from "./architecture-layout.ts";
import { badge, failure, h, put, short, svg, when } from "./dom.ts";
import { debounce, type Page } from "./page.ts";
import { HEALTH_STATUSES, type HealthStatus } from "../contract/index.ts";
import { fitLine, tunnelView, type TunnelView } from "./tunnel-view.ts";
import type { Status, StatusTarget, StoredEvent } from "./types.ts";

type Health = HealthStatus;

const RELOAD_ON =
  /^(release\.(succeeded|rolled_back|failed|aborted|recovered|step\.passed|rolling_back|restore\.)|rollback\.(completed|failed)|drift\.|config\.applied)/;
const key = (worker: string, target: string) => `${worker}\u0000${target}`;
const HEALTHS: readonly Health[] = HEALTH_STATUSES;
const healthOf = (t: StatusTarget | undefined): Health => t?.health?.status ?? "unknown";
const versions = (t: StatusTarget) =>
  t.live.length === 0 ? (t.liveError ? "not deployed" : "—") : t.live.map((l) => `${short(l.versionId)} ${l.percentage}%`).join(" · ");
const drifted = (t: StatusTarget) => t.drift?.status === "drifted" || (t.drift?.drifted ?? false);
/** A release's rollback has not landed here yet: it may still serve that release's version. */
const restorePending = (t: StatusTarget) => t.restore != null;
/** Room the drift badge takes at the box's right edge, left of which the restore badge sits. */
const restoreRight = (t: StatusTarget) => (drifted(t) ? 52 : 6);

export const architecturePage: Page = (root, ctx) => {
  const picture = h("div", { class: "arch-picture" }, h("p", { class: "muted" }, "Loading…"));
  const details = h(
    "aside",
    { class: "arch-details", "aria-live": "polite", "aria-label": "Worker details" },
    h("p", { class: "muted" }, "Select a Worker for its details."),
  );
  put(root, h("div", { class: "page-head" }, h("h1", {}, "Architecture"), legend()), h("div", { class: "arch" }, picture, details));
  let status: Status | undefined;
  let tunnel: TunnelView = { state: "none", line: ctx.features.tunnel ? "checking…" : "none", host: "" };
  let selected: { worker: string; target: string } | undefined;
  let rendered = false;
  const nodes = new Map<string, El>();
  const notes = new Map<string, string>();
  // The newest health event per Worker and target: a status read that started before it arrived
  // must not paint the older state back.
  const latest = new Map<string, NonNullable<StatusTarget["health"]>>();

  const target = (worker: string, t: string) => status?.workers.find((w) => w.name === worker)?.targets.find((x) => x.target === t);

  function label(worker: string, t: StatusTarget): string {
    return `${worker} in ${t.target}: ${healthOf(t)}, ${versions(t)}${drifted(t) ? ", drifted" : ""}${restorePending(t) ? ", restore pending" : ""}${t.staleSecrets?.length ? ", secrets older than current" : ""}`;
  }

  function draw(): void {
    if (!status) return;
    const s = status;
    const layout = layoutArchitecture(
      s.targets.map((t) => ({
        target: t.name,
        workers: s.workers.filter((w) => w.targets.some((x) => x.target === t.name)).map((w) => w.name),
      })),
    );
    nodes.clear();
    const R = GEOMETRY.region;
    const root = svg(
      "svg",
      {
        viewBox: `0 0 ${layout.width} ${layout.height}`,
        width: layout.width,
        height: layout.height,
        role: "group",
        "aria-label": "VPS, tunnel, regions and Workers",
      },
      ...layout.links.map((l) => svg("path", { d: linkPath(l.from, l.to, l.kind === "vps-tunnel"), class: `link link-${tunnel.state}` })),
      box(
        "vps",
        layout.vps,
        "VPS",
        `orchestrator daemon · tenant ${s.tenant}`,
        `${s.workers.length} workers · ${s.targets.length} targets`,
      ),
      box(`tunnel tunnel-${tunnel.state}`, layout.tunnel, "Cloudflare Tunnel", tunnel.line, tunnel.host),
      ...layout.regions.map((r) => {
        const t = s.targets.find((x) => x.name === r.target)!;
        return svg(
          "g",
          { class: "region", "data-target": r.target },
          svg("rect", { x: r.box.x, y: r.box.y, width: r.box.w, height: r.box.h, rx: 8, class: "region-box" }),
          svg("text", { x: r.box.x + 12, y: r.box.y + 22, class: "title" }, `${r.target}`),
          svg(
            "text",
            { x: r.box.x + 12, y: r.box.y + 40, class: "sub" },
            `region ${t.region ?? "—"} · jurisdiction ${t.jurisdiction ?? "—"}`,
          ),
          svg("text", { x: r.box.x + 12, y: r.box.y + 55, class: "sub" }, `account ${short(t.accountId)}`),
          r.workers.length === 0 ? svg("text", { x: r.box.x + R.pad, y: r.box.y + R.head + 18, class: "sub" }, "no workers") : null,
          ...r.workers.map((w) => workerNode(w.worker, target(w.worker, r.target)!, w.box)),
        );
      }),
    );
    put(picture, root);
    if (!rendered) {
      rendered = true;
      performance.mark("cbo:architecture:rendered");
    }
    if (selected) showDetails(selected.worker, selected.target);
  }

  function box(cls: string, b: { x: number; y: number; w: number; h: number }, title: string, ...lines: string[]): El {
    return svg(
      "g",
      { class: `node ${cls}` },
      svg("rect", { x: b.x, y: b.y, width: b.w, height: b.h, rx: 8 }),
      svg("text", { x: b.x + 12, y: b.y + 24, class: "title" }, title),
      ...lines.map((line, i) => svg("text", { x: b.x + 12, y: b.y + 44 + i * 18, class: "sub" }, line)),
    );
  }

  function workerNode(worker: string, t: StatusTarget, b: { x: number; y: number; w: number; h: number }): El {
    const health = healthOf(t);
    const open = () => showDetails(worker, t.target);
    const g = svg(
      "g",
      {
        class: `worker health-${health}`,
        "data-worker": worker,
        "data-target": t.target,
        "data-health": health,
        ...(restorePending(t) ? { "data-restore": "pending" } : {}),
        tabindex: 0,
        role: "button",
        "aria-label": label(worker, t),
        onclick: open,
        onkeydown: (e) => (e.key === "Enter" || e.key === " ") && (e.preventDefault(), open()),
      },
      svg("rect", { x: b.x, y: b.y, width: b.w, height: b.h, rx: 6, class: "worker-box" }),
      svg("circle", { cx: b.x + 14, cy: b.y + b.h / 2, r: 6, class: "dot" }),
      svg("text", { x: b.x + 28, y: b.y + 13, class: "name" }, worker),
      svg("text", { x: b.x + 28, y: b.y + 27, class: "sub" }, versions(t)),
      drifted(t)
        ? svg(
            "g",
            { class: "drift-badge" },
            svg("rect", { x: b.x + b.w - 46, y: b.y + 7, width: 40, height: 18, rx: 9 }),
            svg("text", { x: b.x + b.w - 26, y: b.y + 20, "text-anchor": "middle" }, "drift"),
          )
        : null,
      restorePending(t)
        ? svg(
            "g",
            { class: "restore-badge" },
            svg("rect", { x: b.x + b.w - restoreRight(t) - 90, y: b.y + 7, width: 90, height: 18, rx: 9 }),
            svg("text", { x: b.x + b.w - restoreRight(t) - 45, y: b.y + 20, "text-anchor": "middle" }, "restore pending"),
          )
        : null,
    );
    nodes.set(key(worker, t.target), g);
    return g;
  }

  function showDetails(worker: string, targetName: string): void {
    selected = { worker, target: targetName };
    for (const [k, g] of nodes) g.classList.toggle("selected", k === key(worker, targetName));
    const t = target(worker, targetName);
    const spec = status?.targets.find((x) => x.name === targetName);
    const last = status?.workers.find((w) => w.name === worker)?.lastRelease;
    if (!t) return put(details, h("p", {}, `${worker} is no longer in ${targetName}.`));
    const row = (term: string, ...v: Array<El | string | null>) => [h("dt", {}, term), h("dd", {}, ...v)];
    put(
      details,
      h("h2", {}, `${worker} @ ${targetName}`),
      h(
        "dl",
        {},
        ...row(
          "Health",
          badge(healthOf(t)),
          t.health?.latencyMs != null ? ` ${t.health.latencyMs} ms` : "",
          notes.get(key(worker, targetName)) ? ` (${notes.get(key(worker, targetName))})` : "",
        ),
        ...row("Checked", when(t.health?.checkedAt)),
        ...row(
          "Live",
          t.live.length
            ? h("ul", {}, ...t.live.map((l) => h("li", {}, h("code", {}, l.versionId), ` ${l.percentage}%`)))
            : (t.liveError ?? "—"),
        ),
        ...row("Drift", badge(t.drift?.status ?? "unknown"), t.drift?.detail ? ` ${t.drift.detail}` : ""),
        // A rollback may pin a secret older than the vault's current one: not simply in sync.
        ...(t.staleSecrets && t.staleSecrets.length > 0
          ? row(
              "Secrets",
              badge("older than current"),
              ` ${t.staleSecrets.map((x) => `${x.name} pinned at v${x.pinned}, current v${x.current}`).join("; ")}`,
            )
          : []),
        ...(t.restore
          ? row(
              "Restore",
              badge("restore pending"),
              ` back to `,
              h("code", {}, t.restore.versionId ?? "its previous version"),
              ` for release `,
              h("a", { href: `#/releases/${t.restore.releaseId}` }, short(t.restore.releaseId)),
              `: ${t.restore.attempts} attempts since `,
              when(t.restore.since),
              `; last: ${t.restore.lastError}`,
            )
          : []),
        ...row("Region", `${spec?.region ?? "—"} (jurisdiction ${spec?.jurisdiction ?? "—"})`),
        ...row("Account", h("code", {}, spec?.accountId ?? "—")),
        ...row(
          "Last release",
          last ? h("a", { href: `#/releases/${last.id}` }, `${short(last.id)} ${last.kind} ${last.status.replace("_", " ")}`) : "none",
        ),
      ),
      h(
        "p",
        {},
        h("a", { href: `#/releases?worker=${encodeURIComponent(worker)}` }, "Releases and rollback"),
        " · ",
        h("a", { href: `#/config?worker=${encodeURIComponent(worker)}` }, "Config versions"),
      ),
    );
  }

  function applyHealth(e: StoredEvent): void {
    if (!e.worker || !e.target) return;
    const to = HEALTHS.includes(e.data.to as Health) ? (e.data.to as Health) : "unknown";
    const t = target(e.worker, e.target);
    const health = {
      status: to,
      versionId: t?.health?.versionId ?? null,
      latencyMs: typeof e.data.latencyMs === "number" ? e.data.latencyMs : null,
      checkedAt: e.at,
    };
    latest.set(key(e.worker, e.target), health);
    if (t) t.health = health;
    if (typeof e.data.detail === "string") notes.set(key(e.worker, e.target), e.data.detail);
    const g = nodes.get(key(e.worker, e.target));
    if (g) {
      g.setAttribute(
        "class",
        `worker health-${to}${selected && key(selected.worker, selected.target) === key(e.worker, e.target) ? " selected" : ""}`,
      );
      g.setAttribute("data-health", to);
      if (t) g.setAttribute("aria-label", label(e.worker, t));
    }
    if (selected && selected.worker === e.worker && selected.target === e.target) showDetails(e.worker, e.target);
  }

  async function load(): Promise<void> {
    try {
      const s: Status = await ctx.api.status();
      for (const w of s.workers) {
        for (const t of w.targets) {
          const seen = latest.get(key(w.name, t.target));
          if (seen && (!t.health || seen.checkedAt >= t.health.checkedAt)) t.health = seen;
        }
      }
      status = s;
      draw();
    } catch (e) {
      put(picture, failure(e));
    }
  }
  async function loadTunnel(): Promise<void> {
    if (!ctx.features.tunnel) return;
    try {
      tunnel = tunnelView(await ctx.api.tunnelStatus());
    } catch (e) {
      tunnel = { state: "down", line: fitLine(`unreadable (${e instanceof Error ? e.message : String(e)})`), host: "" };
    }
    draw();
  }
  const reload = debounce(() => void load(), 300);
  void load();
  void loadTunnel();

  return {
    onEvent(e) {
      if (e.type === "health.changed") applyHealth(e);
      else if (RELOAD_ON.test(e.type)) reload();
    },
    dispose: () => reload.cancel(),
  };
};

function legend(): El {
  return h(
    "ul",
    { class: "legend", "aria-label": "Legend" },
    ...HEALTHS.map((s) => h("li", {}, h("span", { class: `swatch health-${s}`, "aria-hidden": "true" }), s)),
    h("li", {}, h("span", { class: "swatch drift", "aria-hidden": "true" }), "drift"),
  );
}
