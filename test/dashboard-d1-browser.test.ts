// The dashboard's D1 page in real Chromium (Debian's, through playwright-core) against a real
// daemon on a real two-region local edge: the releases that migrated the worker's database, per
// target; "Restore to before…" reads the preview first and shows the bookmark, when it was taken,
// the minutes of writes lost and the migrations the schema loses in the confirmation; Cancel
// restores nothing; confirming restores that target only (the earlier rows are back, read through
// the Worker), shows the outcome with the command that undoes it, and is audited with the
// session's name. A viewer sees the page without the button. No page error or failed request.
// Screenshots: test-artifacts/dashboard-d1/.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Daemon } from "../src/daemon.ts";
import { launchChromium, logIn, watchProblems } from "./support/browser-page.ts";
import { startDaemonIn, bearerApi } from "./support/daemon-rig.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { httpGet } from "./support/http.ts";
import { fleetYaml } from "./support/orchestrator.ts";

const ARTIFACTS = fileURLToPath(new URL("../test-artifacts/dashboard-d1/", import.meta.url));
const REGIONS = ["eu", "us"];
const SPEC = fleetYaml({
  regions: REGIONS,
  waves: [["eu"], ["us"]],
  steps: [100],
  gate: { probe_path: "/health", bake_ms: 50, min_samples: 2, interval_ms: 20 },
  workers: ["notes"],
  perWorker: { notes: { d1: { DB: { name: "notes", migrations_dir: "migrations" } } } },
});
const NOTES = (tag: string) => `
export default {
  async fetch(req, env) {
    if (new URL(req.url).pathname === "/health") return new Response("ok");
    const { results } = await env.DB.prepare("SELECT id FROM notes ORDER BY id").all();
    return Response.json({ v: ${JSON.stringify(tag)}, ids: results.map((r) => r.id) });
  },
};
`;

type Release = { id: string; status: string; reason: string | null };

describe("the dashboard's D1 page restores a database to a release's bookmark", () => {
  let t: TestEdge;
  let dir: string;
  let daemon: Daemon;
  let token: string;
  let browser: Browser;
  let r1: string;
  let r2: string;
  const problems: string[] = [];
  const shot = (p: Page, name: string) => p.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  const ids = async (region: string) =>
    (JSON.parse((await httpGet(t.edge.region(region).port, "notes.localhost", { path: "/" })).body) as { ids: number[] }).ids;

  const api = bearerApi(() => ({ url: daemon.url, token }));
  async function release(tag: string): Promise<Release> {
    writeFileSync(join(dir, "notes.js"), NOTES(tag));
    const r = await api<Release>("POST", "/v1/releases", { worker: "notes" });
    return daemon.engine.wait(r.id);
  }
  async function open(as: string): Promise<Page> {
    const p = await (await browser.newContext({ viewport: { width: 1400, height: 1000 } })).newPage();
    watchProblems(p, problems);
    await logIn(p, daemon.url, as);
    await p.click("nav a[data-nav=d1]");
    await p.locator("table[data-table=d1]").waitFor({ timeout: 20_000 });
    return p;
  }

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    t = await startTestEdge({ regions: REGIONS });
    dir = await makeTempDir("dashboard-d1");
    writeFileSync(join(dir, "orchestrator.yaml"), SPEC);
    mkdirSync(join(dir, "migrations"));
    writeFileSync(
      join(dir, "migrations/0001_notes.sql"),
      "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);\nINSERT INTO notes VALUES (1, 'first'), (2, 'second');\n",
    );
    daemon = await startDaemonIn(dir, t.edge);
    token = daemon.initialAdminToken!;
    const first = await release("r1");
    expect(first.status, first.reason ?? "").toBe("succeeded");
    r1 = first.id;
    // A data migration: row 2 goes, row 3 comes.
    writeFileSync(join(dir, "migrations/0002_cleanup.sql"), "DELETE FROM notes WHERE id = 2;\nINSERT INTO notes VALUES (3, 'third');\n");
    const second = await release("r2");
    expect(second.status, second.reason ?? "").toBe("succeeded");
    r2 = second.id;
    for (const region of REGIONS) expect(await ids(region)).toEqual([1, 3]);
    browser = await launchChromium();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await daemon?.close();
    await t?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("lists each release's migrations per target, previews the bookmark in the confirmation, and restores that target only", {
    timeout: 90_000,
  }, async () => {
    const deployer = await api<{ token: string }>("POST", "/v1/tokens", { name: "oncall", role: "deployer" });
    const page = await open(deployer.token);
    try {
      const rows = page.locator("table[data-table=d1] tbody tr");
      // Newest first: r2 then r1, each on eu and us.
      expect(await rows.count()).toBe(4);
      expect(await rows.nth(0).locator("td").allTextContents()).toEqual([
        "notes",
        "eu",
        "DB notes",
        r2.slice(0, 8),
        expect.any(String),
        "succeeded",
        "0002_cleanup.sql",
        "Restore to before…",
      ]);
      expect(await rows.nth(2).locator("td").nth(6).textContent()).toBe("0001_notes.sql");
      expect(await rows.nth(2).locator("td").nth(3).textContent()).toBe(r1.slice(0, 8));
      await shot(page, "d1-list");

      // The confirmation shows what the daemon's preview says; Cancel restores nothing.
      const button = page.locator(`button[data-d1-restore="eu/DB/${r2}"]`);
      await button.click();
      const dialog = page.locator("dialog.confirm");
      await dialog.waitFor();
      const preview = await api<{ bookmark: string; bookmarkAt: string; minutesLost: number }>(
        "GET",
        `/v1/d1/restore?binding=DB&target=eu&release=${r2}`,
      );
      expect(await dialog.locator("h2").textContent()).toBe("Restore D1 notes on eu?");
      expect(await dialog.locator("[data-bookmark]").textContent()).toBe(preview.bookmark);
      expect(await dialog.locator("[data-bookmark-at]").getAttribute("data-bookmark-at")).toBe(preview.bookmarkAt);
      expect(await dialog.locator("[data-bookmark-at]").textContent()).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
      expect(await dialog.locator("[data-minutes-lost]").textContent()).toBe(`about ${preview.minutesLost} minute(s) of writes since then`);
      expect(await dialog.locator("[data-migrations-lost]").textContent()).toBe("0002_cleanup.sql");
      await shot(page, "d1-confirm");
      await dialog.locator("button.secondary").click();
      await dialog.waitFor({ state: "detached" });
      expect(await ids("eu")).toEqual([1, 3]);
      expect(daemon.security.audit.search({ action: "d1.restore", limit: 10 })).toEqual([]);

      // Confirmed: progress, then the outcome with the command that undoes it.
      await button.click();
      await dialog.locator("button[data-confirm]").click();
      const done = page.locator("[data-d1-outcome] [data-state=restored]");
      await done.waitFor({ timeout: 30_000 });
      expect(await done.textContent()).toMatch(new RegExp(`^D1 notes on eu restored at .* to bookmark ${preview.bookmark}\\.`));
      const undo = await done.locator("[data-undo-bookmark]").getAttribute("data-undo-bookmark");
      expect(undo).toBeTruthy();
      expect(await done.locator("[data-undo-bookmark]").textContent()).toBe(`wrangler d1 time-travel restore notes --bookmark ${undo}`);
      await shot(page, "d1-restored");
      expect(await ids("eu")).toEqual([1, 2]);
      expect(await ids("us")).toEqual([1, 3]);
      const audit = daemon.security.audit.search({ action: "d1.restore", limit: 10 }).filter((e) => e.outcome === "ok");
      expect(audit.map((e) => e.details.stage)).toEqual(["requested", "restored"]);
      for (const e of audit) {
        expect(e.actor).toContain("oncall");
        expect(e.target).toBe("d1:eu/DB");
        expect(e.details).toMatchObject({ via: "dashboard" });
      }
    } finally {
      await page.close();
    }
    expect(problems).toEqual([]);
  });

  it("a viewer sees the migrations but no restore button", { timeout: 60_000 }, async () => {
    const viewer = await api<{ token: string }>("POST", "/v1/tokens", { name: "watcher", role: "viewer" });
    const page = await open(viewer.token);
    try {
      expect(await page.locator("table[data-table=d1] tbody tr").count()).toBe(4);
      expect(await page.locator("button[data-d1-restore]").count()).toBe(0);
      await shot(page, "d1-viewer");
    } finally {
      await page.close();
    }
    expect(problems).toEqual([]);
  });
});
