// The wizard's checks against a Cloudflare API (the real one, or the local edge, which answers the
// same calls): is the token live, which accounts does it reach, and does each target answer an
// account-scoped call. Every failure names what to do (steps.ts has the token scopes).
import { CboError, isCboError } from "../kit/errors.ts";
import type { CloudflareClient } from "../cloudflare/index.ts";
import { CLOUDFLARE_TOKEN_FIX } from "./steps.ts";
import type { StepOutcome } from "./wizard.ts";

const CHECK_TIMEOUT_MS = 15_000;

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new CboError("ERR_CF_UNAVAILABLE", `${what} did not answer within ${CHECK_TIMEOUT_MS / 1000} s.`)),
      CHECK_TIMEOUT_MS,
    );
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

const reason = (e: unknown) => (isCboError(e) || e instanceof Error ? e.message : String(e));

/** Not a refusal of the token: the API was not reached (DNS, connection refused, a timeout) or kept failing (5xx, 429). */
const unreachable = (e: unknown) => isCboError(e) && (e.code === "ERR_CF_UNAVAILABLE" || e.code === "ERR_CF_RATE_LIMITED");

function couldNotReach(apiUrl: string, e: unknown): CboError {
  return new CboError("ERR_CF_UNAVAILABLE", `Could not reach the Cloudflare API at ${apiUrl}: ${reason(e)}`, {
    hint: "This is the network, not the token: check DNS, a proxy (HTTPS_PROXY) or a firewall between this host and the API, then run the step again.",
    cause: e,
  });
}

/** The token is active and reaches every account in `accountIds` (Account Settings:Read lists them). */
export async function checkCloudflareToken(
  client: Pick<CloudflareClient, "verifyToken" | "listAccounts">,
  accountIds: string[],
  apiUrl: string,
): Promise<StepOutcome> {
  let status: string;
  try {
    status = (await withTimeout(client.verifyToken(), `The Cloudflare API at ${apiUrl}`)).status;
  } catch (e) {
    if (unreachable(e)) throw couldNotReach(apiUrl, e);
    throw new CboError("ERR_UNAUTHORIZED", `Cloudflare did not accept the API token: ${reason(e)}`, { hint: CLOUDFLARE_TOKEN_FIX });
  }
  if (status !== "active")
    throw new CboError("ERR_UNAUTHORIZED", `The Cloudflare API token is ${status}, not active.`, { hint: CLOUDFLARE_TOKEN_FIX });
  let accounts: Array<{ id: string; name: string }>;
  try {
    accounts = await withTimeout(client.listAccounts(), `The Cloudflare API at ${apiUrl}`);
  } catch (e) {
    if (unreachable(e)) throw couldNotReach(apiUrl, e);
    throw new CboError("ERR_FORBIDDEN", `The token cannot list its accounts: ${reason(e)}`, { hint: CLOUDFLARE_TOKEN_FIX });
  }
  const missing = accountIds.filter((id) => !accounts.some((a) => a.id === id));
  if (missing.length > 0) {
    throw new CboError(
      "ERR_FORBIDDEN",
      `The token does not reach account(s) ${missing.join(", ")}; it reaches ${accounts.map((a) => `${a.name} (${a.id})`).join(", ") || "none"}.`,
      {
        hint: `Check the account ids (Cloudflare dashboard → Workers & Pages → Account ID), or add those accounts to the token. ${CLOUDFLARE_TOKEN_FIX}`,
      },
    );
  }
  const used = accounts.filter((a) => accountIds.includes(a.id));
  return { status: "done", detail: `token active; ${used.map((a) => `${a.name} (${a.id})`).join(", ")}` };
}

/** Each target answers an account-scoped call (listing its Workers): the token's Workers scope and the account are right. */
export async function checkTargets(targets: Array<{ name: string; client: Pick<CloudflareClient, "listScripts"> }>): Promise<StepOutcome> {
  const results = await Promise.all(
    targets.map(async (t) => {
      try {
        const scripts = await withTimeout(t.client.listScripts(), `Target ${t.name}`);
        return { name: t.name, ok: true as const, scripts: scripts.length };
      } catch (e) {
        return { name: t.name, ok: false as const, why: reason(e), error: e };
      }
    }),
  );
  const bad = results.filter((r) => !r.ok);
  // A spent request budget says nothing about the account or the token: said as it is, with when to look again.
  const spent = bad.map((r) => ("error" in r ? r.error : undefined)).find((e) => isCboError(e) && e.code === "ERR_CF_BUDGET");
  if (spent) throw spent;
  if (bad.length > 0) {
    throw new CboError("ERR_CF_REQUEST", `Not reachable: ${bad.map((r) => `${r.name} (${"why" in r ? r.why : ""})`).join("; ")}.`, {
      hint: "Check the target's account_id and api in orchestrator.yaml, and that the token has Workers Scripts:Edit on that account.",
    });
  }
  return {
    status: "done",
    detail: results
      .map((r) => `${r.name} reachable (${"scripts" in r ? r.scripts : 0} Worker${"scripts" in r && r.scripts === 1 ? "" : "s"})`)
      .join(", "),
  };
}
