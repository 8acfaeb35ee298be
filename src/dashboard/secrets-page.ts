// Secrets by name, version, mode and jurisdictions: the API never sends a value here (a dashboard
// session cannot even ask for one: session-guard.ts). API tokens for admins: names, roles,
// scopes and dates, never a token.
import { isCboError } from "../kit/errors.ts";
import { badge, failure, h, put, table, when } from "./dom.ts";
import type { Page } from "./page.ts";
import type { Secret, Token } from "./types.ts";

/**
 * How often the lists are read again while the page is shown: a secret set or rotated and a token
 * created or revoked (by the CLI, another session) send no live event, and the page must not
 * show a version or a token state that is no longer true.
 */
export const SECRETS_REFRESH_MS = 3_000;

export const secretsPage: Page = (root, ctx) => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let disposed = false;
  const secrets = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  const tokens = h("div", {}, h("p", { class: "muted" }, ctx.can("admin") ? "Loading…" : "Tokens are shown to admins only."));
  put(
    root,
    h("div", { class: "page-head" }, h("h1", {}, "Secrets and tokens")),
    h(
      "section",
      { "aria-labelledby": "secrets-h" },
      h("h2", { id: "secrets-h" }, "Secrets"),
      h("p", { class: "muted" }, "Names, versions and delivery only; values stay in the vault."),
      secrets,
    ),
    h("section", { "aria-labelledby": "tokens-h" }, h("h2", { id: "tokens-h" }, "API tokens"), tokens),
  );

  async function load(): Promise<void> {
    try {
      const list: Secret[] = await ctx.api.listSecrets();
      put(
        secrets,
        list.length === 0
          ? h("p", { class: "muted" }, "No secrets yet (cbo secrets set NAME).")
          : table(
              "Secrets",
              ["Name", "Version", "Mode", "Jurisdictions", "State", "Updated"],
              list.map((s) => [
                h("code", {}, s.name),
                `v${s.version}`,
                s.mode,
                s.jurisdictions.join(", ") || "any",
                s.deleted ? badge("deleted") : badge("active"),
                when(s.updatedAt),
              ]),
              { class: "data", "data-table": "secrets" },
            ),
      );
    } catch (e) {
      put(secrets, failure(e));
    }
    if (!ctx.can("admin")) return;
    try {
      const list: Token[] = await ctx.api.listTokens();
      put(
        tokens,
        table(
          "API tokens",
          ["Name", "Role", "Tenant", "Created", "Expires", "State"],
          list.map((t) => [
            t.name,
            t.role,
            t.tenant ?? "all",
            when(t.createdAt),
            t.expiresAt ? when(t.expiresAt) : "never",
            t.revokedAt ? badge("revoked") : badge("active"),
          ]),
          { class: "data", "data-table": "tokens" },
        ),
      );
    } catch (e) {
      put(
        tokens,
        isCboError(e) && e.code === "ERR_FORBIDDEN" ? h("p", { class: "muted" }, "Tokens are shown to admins only.") : failure(e),
      );
    }
  }
  async function loop(): Promise<void> {
    await load();
    if (!disposed) timer = setTimeout(() => void loop(), SECRETS_REFRESH_MS);
  }
  void loop();
  return {
    dispose() {
      disposed = true;
      if (timer) clearTimeout(timer);
    },
  };
};
