// The dashboard's Chromium tests share their browser set-up: Debian's Chromium launched headless
// (never a downloaded one; scripts/ensure-test-tools.ts installs it), a page that records every
// problem it meets so a test can assert there were none, and logging in with an API token.
import { chromium, type Browser, type Page } from "playwright-core";
import { TEST_TOOLS } from "../../scripts/test-tools.ts";

const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: TEST_TOOLS.chromium.path, headless: true, args: CHROMIUM_ARGS });
}

export type WatchOptions = {
  /** HTTP statuses >= 400 the test provokes on purpose (e.g. a viewer's 403), not problems. */
  allowed?: number[];
  /** Name a failed request with its query string too (where the same path is asked with many). */
  withQuery?: boolean;
};

/**
 * Records into `problems` a page error, a console error (except Chromium's own "Failed to load
 * resource", which repeats the failed response already recorded) and any answer >= 400 not allowed.
 */
export function watchProblems(page: Page, problems: string[], opts: WatchOptions = {}): void {
  const allowed = opts.allowed ?? [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && !/Failed to load resource/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  page.on("response", (r) => {
    if (r.status() < 400 || allowed.includes(r.status())) return;
    const url = new URL(r.url());
    problems.push(`HTTP ${r.status()} ${r.request().method()} ${url.pathname}${opts.withQuery ? url.search : ""}`);
  });
}

/** The architecture page's nav link, current: where a login lands. */
export const LANDED = "nav a[data-nav=architecture][aria-current=page]";

/** Logs in at the daemon's dashboard with an API token and waits for `landed` (default: the first page). */
export async function logIn(page: Page, daemonUrl: string, token: string, landed = LANDED): Promise<void> {
  await page.goto(new URL("/ui/", daemonUrl).href);
  await page.fill("#token", token);
  await page.click("button[type=submit]");
  await page.locator(landed).waitFor();
}
