// The login form: an API token in, a session cookie out (HttpOnly: this page never sees it). The
// form is a real one (POST /ui/login); with JavaScript it posts JSON and stays on the page.
import type { El, Field } from "./browser.ts";
import { loc } from "./browser.ts";
import { h, put } from "./dom.ts";
import type { SessionInfo } from "./types.ts";

const MESSAGES: Record<string, string> = {
  ERR_UNAUTHORIZED: "That token is not valid (unknown, revoked or expired).",
  ERR_RATE_LIMITED: "Too many failed attempts from here; wait a minute and try again.",
  ERR_FORBIDDEN: "This token may not log in here.",
  ERR_VALIDATION: "Paste an API token.",
};

export function showLogin(app: El, onLoggedIn: (s: SessionInfo) => void, why?: string): void {
  const fromForm = new URLSearchParams(loc().search).get("login");
  const token = h("input", {
    id: "token",
    name: "token",
    type: "password",
    autocomplete: "current-password",
    required: true,
    spellcheck: "false",
  }) as Field;
  const message = h("p", { class: "error", role: "alert" }, why ?? (fromForm ? (MESSAGES[fromForm] ?? fromForm) : ""));
  const button = h("button", { type: "submit" }, "Log in") as Field;

  async function submit(): Promise<void> {
    button.disabled = true;
    put(message);
    try {
      const res = await fetch("/ui/login", {
        method: "POST",
        headers: { "content-type": "application/json" },
        credentials: "same-origin",
        body: JSON.stringify({ token: token.value }),
      });
      const body = (await res.json().catch(() => ({}))) as SessionInfo | { error?: { code?: string; message?: string } };
      if (res.ok && "authenticated" in body) {
        token.value = "";
        onLoggedIn(body);
        return;
      }
      const err = "error" in body ? body.error : undefined;
      put(message, (err?.code && MESSAGES[err.code]) ?? err?.message ?? `Login failed (HTTP ${res.status}).`);
    } catch {
      // fetch failed: no answer at all (the browser's own words, "Failed to fetch", say nothing).
      put(message, `Login failed: the orchestrator daemon at ${loc().host} is not answering. Try again once it is back.`);
    } finally {
      button.disabled = false;
    }
  }

  put(
    app,
    h(
      "main",
      { class: "login", id: "main" },
      h(
        "form",
        { method: "post", action: "/ui/login", "aria-labelledby": "login-h", onsubmit: (e) => (e.preventDefault(), void submit()) },
        h("h1", { id: "login-h" }, "Clawdbot Orchestrator"),
        h("p", { class: "muted" }, "Log in with an API token (cbo tokens create, or the admin token in <data>/admin-token)."),
        h("label", { for: "token" }, "API token"),
        token,
        button,
        message,
      ),
    ),
  );
  token.focus();
}
