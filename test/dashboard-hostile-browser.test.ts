// The dashboard in real Chromium against a real daemon and a one-region local edge holding hostile
// strings (markup, a closing script tag, an event handler, a javascript: URL, a 400-character word)
// everywhere a user or a Worker puts one: a token's name (the session's name, release authors,
// audit actors and details, the token list), release control reasons, a Worker's vars in
// orchestrator.yaml and its console.log lines (the fleet log view), a D1 migration's file name, a
// secret, audit search input. Every page and the release details are opened: no payload runs (each
// would set window.__xss), none becomes an element, the text shows as text, no CSP violation or
// other console error or failed request, no page wider than the window (long words wrap).
import { mkdirSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Daemon } from "../src/daemon.ts";
import { launchChromium, logIn, watchProblems } from "./support/browser-page.ts";
import { bearerApi, startDaemonIn } from "./support/daemon-rig.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { httpGet } from "./support/http.ts";

/** Each sets `window.__xss` if it ever runs; `n` tells which one did. */
const payloads = (n: number) => [
  `<img src=x onerror="window.__xss=${n}">`,
  `</script><script>window.__xss=${n + 1}</script>`,
  `"><svg onload=window.__xss=${n + 2}>`,
  `javascript:window.__xss=${n + 3}`,
];
const MIGRATION = `0001_<img src=x onerror=window.__xss=81>.sql`;
const LONG = `W${"x".repeat(400)}`; // one word wider than any window

const SPEC = `version: 1
targets:
  - { name: eu, api: local }
rollout:
  steps: [100]
  gate: { probe_path: /, interval_ms: 50, bake_ms: 0, min_samples: 1 }
workers:
  - name: tiny
    main: tiny.js
    compatibility_date: "2025-01-01"
    d1: { DB: { name: tiny, migrations_dir: migrations } }
    vars:
      GREETING: ${JSON.stringify(payloads(11).join(" "))}
      LONG: ${LONG}
logs:
  workers: [tiny]
`;

// Logs hostile lines on every request (the fleet log view shows them).
const WORKER = `export default { fetch(req, env) {
  console.log(${JSON.stringify(payloads(51).join(" "))}, env.GREETING, env.LONG);
  return new Response("tiny");
} }`;

type Release = { id: string; status: string };

describe("the dashboard under hostile data", () => {
  let t: TestEdge;
  let dir: string;
  let daemon: Daemon;
  let browser: Browser;
  let page: Page;
  let admin: string;
  let hostileToken: string;
  let releaseId: string;
  let abortedId: string;
  const problems: string[] = [];
  const api = bearerApi(() => ({ url: daemon.url, token: admin }));

  beforeAll(async () => {
    dir = await makeTempDir("dashboard-hostile");
    writeFileSync(join(dir, "orchestrator.yaml"), SPEC);
    writeFileSync(join(dir, "tiny.js"), WORKER);
    // A migration file name is the user's too (a file name may hold markup, not a slash).
    mkdirSync(join(dir, "migrations"));
    writeFileSync(join(dir, "migrations", MIGRATION), "CREATE TABLE notes (id INTEGER PRIMARY KEY);\n");
    t = await startTestEdge({ regions: ["eu"] });
    daemon = await startDaemonIn(dir, t.edge, { fleetLogs: { reconcileMs: 200, tail: { backoff: { baseMs: 100, maxMs: 500 } } } });
    admin = daemon.initialAdminToken!;
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1200, height: 800 } })).newPage();
    await page.addInitScript(() => {
      const g = globalThis as unknown as {
        __csp: string[];
        addEventListener(t: string, f: (e: { violatedDirective: string }) => void): void;
      };
      g.__csp = [];
      g.addEventListener("securitypolicyviolation", (e) => g.__csp.push(e.violatedDirective));
    });
    watchProblems(page, problems, { withQuery: true });
  });
  afterAll(async () => {
    await browser?.close();
    await daemon?.close();
    await t?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("plants hostile strings through the API", async () => {
    // A deployer whose name is hostile: the browser logs in as it, so it is the session's name and
    // the actor of everything below.
    const created = await api<{ token: string }>("POST", "/v1/tokens", { name: payloads(21).slice(0, 2).join(" "), role: "deployer" });
    const r = await api<Release>("POST", "/v1/releases", { worker: "tiny" }, created.token);
    const done = await daemon.engine.wait(r.id);
    expect(done.status).toBe("succeeded");
    const r2 = await api<Release>("POST", "/v1/releases", { worker: "tiny", force: true }, created.token);
    await api("POST", `/v1/releases/${r2.id}/abort`, { reason: payloads(31).join(" ") }, created.token).catch(() => {});
    await daemon.engine.wait(r2.id);
    abortedId = r2.id;
    // The Worker logs its hostile lines (and its hostile vars) on each request; the daemon keeps them.
    await expect
      .poll(
        async () => {
          await httpGet(t.edge.region("eu").port, "tiny.localhost", { path: "/" });
          return (await api<unknown[]>("GET", "/v1/logs?worker=tiny&limit=5")).length;
        },
        { timeout: 15_000, interval: 300 },
      )
      .toBeGreaterThan(0);
    await api("PUT", "/v1/secrets/HOSTILE_SECRET", { value: payloads(41).join(" "), mode: "relay" });
    hostileToken = created.token;
    releaseId = r.id;
  });

  /** Opens each page (a hash route) and asserts what every page must hold; answers each page's text. */
  async function visit(hashes: string[], everywhere: string): Promise<Record<string, string>> {
    const seen: Record<string, string> = {};
    for (const hash of hashes) {
      await page.evaluate((h) => void ((globalThis as unknown as { location: { hash: string } }).location.hash = `#/${h}`), hash);
      await page.locator("main .page").waitFor();
      await page.waitForLoadState("networkidle");
      await page.waitForTimeout(300);
      const state = await page.evaluate(() => {
        const g = globalThis as unknown as {
          __xss?: number;
          __csp: string[];
          innerWidth: number;
          document: {
            body: { textContent: string };
            documentElement: { scrollWidth: number };
            querySelectorAll(s: string): { length: number };
          };
        };
        return {
          xss: g.__xss,
          csp: g.__csp.slice(),
          injected: g.document.querySelectorAll("img[src=x], [onerror], [onload], script:not([src]), a[href^=javascript]").length,
          text: g.document.body.textContent,
          overflow: g.document.documentElement.scrollWidth - g.innerWidth,
        };
      });
      seen[hash] = state.text;
      expect(state.xss, hash).toBeUndefined();
      expect(state.csp, hash).toEqual([]);
      expect(state.injected, hash).toBe(0);
      expect(state.overflow, `${hash}: the page is ${state.overflow}px wider than the window`).toBeLessThanOrEqual(0);
      expect(state.text, hash).not.toMatch(/undefined|NaN|\[object Object\]/);
      expect(state.text, hash).toContain(everywhere);
    }
    return seen;
  }

  it("shows every page to the hostile deployer with the strings as text: nothing runs or is injected, no CSP violation, no overflow", async () => {
    await logIn(page, daemon.url, hostileToken);
    const hashes = [
      "architecture",
      "releases",
      `releases/${releaseId}`,
      `releases/${abortedId}`,
      "metrics",
      "logs",
      "config?worker=tiny",
      "d1",
      "secrets",
      "audit",
      "setup",
    ];
    const seen = await visit(hashes, '<img src=x onerror="window.__xss=21">'); // the session's name, in the header
    expect(seen["releases"]).toContain('"><svg onload=window.__xss=33>'); // the abort's reason
    expect(seen[`releases/${abortedId}`]).toContain("</script><script>window.__xss=32</script>");
    expect(seen["logs"]).toContain('<img src=x onerror="window.__xss=51">'); // the Worker's console.log
    expect(seen["logs"]).toContain("javascript:window.__xss=14"); // its vars from orchestrator.yaml
    expect(seen["logs"]).toContain(LONG);
    expect(seen["d1"]).toContain(MIGRATION);
    // A hostile release id in a link (the hash): an answer in words, the id as text.
    const bad = '<img src=x onerror="window.__xss=91">';
    await page.evaluate(
      (id) => void ((globalThis as unknown as { location: { hash: string } }).location.hash = `#/releases/${encodeURIComponent(id)}`),
      bad,
    );
    const alert = page.locator("[data-page=releases-detail] [role=alert]");
    await alert.waitFor();
    const said = (await alert.textContent()) ?? "";
    expect(said).toBe(`ERR_NOT_FOUND: No release with id "${bad}".`);
    expect(await page.locator("img[src=x], [onerror]").count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss)).toBeUndefined();
    problems.splice(0, problems.length, ...problems.filter((p) => !/^HTTP 404 GET \/v1\/releases\/%3Cimg/.test(p)));
    // The architecture view's details of the Worker (its last release, by the hostile deployer).
    await page.click("nav a[data-nav=architecture]");
    await page.locator('g.worker[data-worker="tiny"][data-target="eu"]').click();
    await expect.poll(() => page.locator(".arch-details h2").textContent()).toBe("tiny @ eu");
    const details = (await page.locator(".arch-details").textContent()) ?? "";
    expect(details).not.toMatch(/undefined|NaN|\[object Object\]/);
    expect(await page.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss)).toBeUndefined();
    expect(problems).toEqual([]);
  });

  it("shows the audit log and the tokens to an admin with the strings as text", async () => {
    await page.click("button:has-text('Log out')");
    await page.locator("#token").waitFor();
    await page.fill("#token", admin);
    await page.click("button[type=submit]");
    await page.locator("nav a[aria-current=page]").waitFor();
    const seen = await visit(["audit", "secrets"], "Log out");
    expect(seen["audit"]).toContain('<img src=x onerror="window.__xss=21">'); // actor and token.create details
    expect(seen["audit"]).toContain("javascript:window.__xss=34"); // the abort's reason
    expect(seen["secrets"]).toContain("</script><script>window.__xss=22</script>"); // the token's name
    // Hostile search input: whatever the daemon answers (a refusal quoting it, or nothing found) is text.
    await page.click("nav a[data-nav=audit]");
    for (const [field, value] of [
      ["action", payloads(61)[0]!],
      ["text", payloads(71).join(" ")],
    ] as const) {
      await page.fill("#audit-action", "");
      await page.fill("#audit-text", "");
      await page.fill(`#audit-${field}`, value);
      await page.click("[data-page=audit] button[type=submit]");
      await page.locator("[data-page=audit] :is([role=alert], p.muted:has-text('No entries match.'))").first().waitFor();
      const shown = (await page.locator("[data-page=audit]").textContent()) ?? "";
      expect(shown, field).not.toMatch(/undefined|NaN|\[object Object\]/);
    }
    expect(await page.locator("img[src=x], [onerror], [onload]").count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss)).toBeUndefined();

    // The CSP itself, in the browser: script added inline, a handler attribute and a string timer (eval) are refused.
    const refused = await page.evaluate(() => {
      const g = globalThis as unknown as {
        __xss?: number;
        __csp: string[];
        setTimeout(s: string, ms: number): unknown;
        document: {
          createElement(t: string): { textContent: string; setAttribute(k: string, v: string): void };
          body: { append(e: unknown): void };
        };
      };
      const script = g.document.createElement("script");
      script.textContent = "window.__xss = 101";
      g.document.body.append(script);
      const img = g.document.createElement("img");
      img.setAttribute("onerror", "window.__xss = 102");
      img.setAttribute("src", "data:,");
      g.document.body.append(img);
      // eval itself is exempt when DevTools calls it; a string timer is compiled in the page's own context.
      g.setTimeout("window.__xss = 103", 0);
      return new Promise<{ xss?: number; csp: string[] }>((done) => setTimeout(() => done({ xss: g.__xss, csp: g.__csp.slice() }), 300));
    });
    expect(refused.xss).toBeUndefined();
    expect(refused.csp).toEqual(expect.arrayContaining(["script-src-elem", "script-src-attr", "script-src"]));
    problems.splice(0, problems.length, ...problems.filter((p) => !/Content Security Policy/.test(p))); // provoked just now
    expect(problems).toEqual([]);
  });
});
