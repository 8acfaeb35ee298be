// The dashboard's shell: the session (or the login form), the navigation, the one live event
// stream, and the page on screen (hash routes: #/architecture, #/releases[/<id>], #/metrics,
// #/logs, #/config, #/d1, #/secrets, #/audit, #/setup). Every page gets each live event while it is shown.
import { createDaemonClient, newTraceparent, type DaemonClient } from "../client/index.ts";
import { architecturePage } from "./architecture.ts";
import { auditPage } from "./audit.ts";
import { doc, loc, win, type El } from "./browser.ts";
import { configPage } from "./config.ts";
import { d1Page } from "./d1-page.ts";
import { backoffDelay } from "../kit/backoff.ts";
import { h, put } from "./dom.ts";
import { featuresOf, NO_FEATURES, type Features } from "./features.ts";
import { connectLive, type Live, type LiveState } from "./live.ts";
import { showLogin } from "./login.ts";
import { logsPage } from "./logs-page.ts";
import { metricsPage } from "./metrics-page.ts";
import type { Page, PageCtx, PageHandle } from "./page.ts";
import { releaseDetailPage } from "./release-detail.ts";
import { releasesPage } from "./releases.ts";
import { secretsPage } from "./secrets-page.ts";
import { setupPage } from "./setup.ts";
import { allows, type SessionInfo } from "./types.ts";

type Nav = { id: string; title: string; page: Page; shown?: (f: Features) => boolean };
const NAV: Nav[] = [
  { id: "architecture", title: "Architecture", page: architecturePage },
  { id: "releases", title: "Releases", page: releasesPage },
  { id: "metrics", title: "Metrics", page: metricsPage, shown: (f) => f.metrics },
  { id: "logs", title: "Logs", page: logsPage, shown: (f) => f.logs },
  { id: "config", title: "Config", page: configPage },
  { id: "d1", title: "D1", page: d1Page },
  { id: "secrets", title: "Secrets", page: secretsPage },
  { id: "audit", title: "Audit", page: auditPage },
  { id: "setup", title: "Setup", page: setupPage, shown: (f) => f.setup },
];
const LIVE_WORDS: Record<LiveState, string> = { connecting: "connecting…", live: "live", retrying: "reconnecting…", ended: "offline" };

export async function boot(): Promise<void> {
  const app = doc().getElementById("app")!;
  // Until the daemon answers who this is, say so and ask again: never a blank page.
  for (let attempt = 0; ; attempt++) {
    try {
      const [session, features] = await Promise.all([sessionInfo(), featuresNow()]);
      const start = (s: SessionInfo) => startApp(app, s, features);
      if (session.authenticated) start(session);
      else showLogin(app, start);
      return;
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      put(
        app,
        h("main", { id: "main", class: "login" }, h("p", { class: "error", role: "alert", "data-boot-error": "" }, `${why} Trying again…`)),
      );
      await new Promise((r) => setTimeout(r, 500 + backoffDelay(attempt, { baseMs: 500, maxMs: 5_000 })));
    }
  }
}

async function sessionInfo(): Promise<SessionInfo | { authenticated: false }> {
  let res: Response;
  try {
    res = await fetch("/ui/session", { credentials: "same-origin" });
  } catch {
    throw new Error(`The orchestrator daemon at ${loc().host} is not answering.`);
  }
  if (!res.ok) throw new Error(`The orchestrator daemon answered HTTP ${res.status} when asked for this session.`);
  return (await res.json()) as SessionInfo | { authenticated: false };
}

/**
 * What this daemon offers (from its OpenAPI document). A failed answer is asked again with the
 * session (else the optional pages would stay hidden for the whole session); a document this page
 * cannot read means nothing optional.
 */
async function featuresNow(): Promise<Features> {
  const res = await fetch("/v1/openapi.json").catch(() => undefined);
  if (!res) throw new Error(`The orchestrator daemon at ${loc().host} is not answering.`);
  if (!res.ok) throw new Error(`The orchestrator daemon answered HTTP ${res.status} when asked what it offers.`);
  return res.json().then(featuresOf, () => NO_FEATURES);
}

function startApp(app: El, session: SessionInfo, features: Features): void {
  let current: PageHandle | undefined;
  let ended = false;
  const end = (why: string) => {
    if (ended) return;
    ended = true;
    live.close();
    current?.dispose?.();
    win().removeEventListener("hashchange", route);
    showLogin(app, (s) => startApp(app, s, features), why);
  };
  // The one daemon client, on this page's origin and session: the cookie goes along, mutations
  // carry the session's CSRF token, a 401 (the session ended) brings the login form back.
  // Shown while the daemon refuses orchestrator.yaml on disk (every answer says whether it does).
  const specBanner = h("div", { class: "spec-refused", role: "alert", hidden: true, "data-spec-refused": "" });
  const api: DaemonClient = createDaemonClient({
    url: `${loc().protocol}//${loc().host}`,
    csrf: () => session.csrf,
    onUnauthorized: () => end("Your session has ended; log in again."),
    // A trace per action (request), not one for the page's whole life.
    traceparent: newTraceparent,
    onSpecRefused: (refused) => showSpecRefused(specBanner, refused),
  });
  const live: Live = connectLive(api, { after: session.eventsAfter, onEnded: () => end("Your session has ended; log in again.") });
  const main = h("main", { id: "main", tabindex: -1 });
  const liveBadge = h("span", { class: "live", role: "status", "data-state": live.state() }, LIVE_WORDS[live.state()]);
  let wasDown = false;
  live.onState((s) => {
    liveBadge.setAttribute("data-state", s);
    put(liveBadge, LIVE_WORDS[s]);
    // The daemon is back after the stream dropped: the page on screen may show a failed load or
    // miss what happened meanwhile, so it loads again.
    if (s === "retrying") wasDown = true;
    if (s === "live" && wasDown) {
      wasDown = false;
      route();
    }
  });
  // A click on the page already shown loads it again (the hash does not change, so no hashchange).
  const again = (id: string) => () => loc().hash.replace(/^#\/?/, "") === id && route();
  const links = NAV.filter((n) => n.shown?.(features) ?? true).map((n) =>
    h("a", { href: `#/${n.id}`, "data-nav": n.id, onclick: again(n.id) }, n.title),
  );
  const logout = async () => {
    await fetch("/ui/logout", { method: "POST", headers: { "x-csrf-token": session.csrf }, credentials: "same-origin" }).catch(() => {});
    end("Logged out.");
  };
  put(
    app,
    h("a", { class: "skip", href: "#main" }, "Skip to content"),
    h(
      "header",
      { class: "top" },
      h("span", { class: "brand" }, "Clawdbot Orchestrator"),
      h("nav", { "aria-label": "Pages" }, ...links),
      h(
        "div",
        { class: "who" },
        features.kit && allows(session.role, "admin") ? h("a", { href: "/v1/kit", download: true, class: "kit" }, "Download kit") : null,
        liveBadge,
        h("span", {}, `${session.name} (${session.role})`),
        h("button", { type: "button", class: "secondary", onclick: () => void logout() }, "Log out"),
      ),
    ),
    specBanner,
    main,
  );

  const ctx: PageCtx = { api, session, features, go: (hash) => void (loc().hash = hash), can: (role) => allows(session.role, role) };
  function route(): void {
    const [path = "", q = ""] = loc().hash.replace(/^#\/?/, "").split("?");
    const [name = "architecture", param] = path.split("/");
    const nav = NAV.find((n) => n.id === name && (n.shown?.(features) ?? true)) ?? NAV[0]!;
    const page = nav.id === "releases" && param ? releaseDetailPage : nav.page;
    current?.dispose?.();
    for (const a of links)
      a.getAttribute("data-nav") === nav.id ? a.setAttribute("aria-current", "page") : a.removeAttribute("aria-current");
    doc().title = `${nav.title} · Clawdbot Orchestrator`;
    const root = h("div", { class: `page page-${nav.id}`, "data-page": param ? `${nav.id}-detail` : nav.id });
    put(main, root);
    current = page(root, ctx, { param: param ? decodeURIComponent(param) : undefined, query: new URLSearchParams(q) });
  }
  live.on((e) => current?.onEvent?.(e));
  win().addEventListener("hashchange", route);
  route();
}

/** The banner says the file on disk is refused, and why; it goes away once the daemon takes the file. */
function showSpecRefused(banner: El, refused: string | undefined): void {
  if (refused === undefined) {
    if (!banner.hidden) banner.hidden = true;
    return;
  }
  put(
    banner,
    h("strong", {}, "orchestrator.yaml is refused: "),
    `the daemon keeps using the previous spec, so what you see here is that spec's. ${refused}`,
  );
  banner.hidden = false;
}
