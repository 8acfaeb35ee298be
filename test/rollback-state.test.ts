// Issue 14, acceptance 5 (and the MCP bug it reports), with a real daemon (startDaemon, vault and
// all) on a real three-region local edge: R1 ships SHOPIFY_WEBHOOK_SECRET v1, R2 ships v2, R3 fails
// its gate and rolls back. Then a rollback's preview names, per target, the code version it sets,
// each secret's version change and the config version; the default target is R1 (the last release
// that succeeded before R2, the one being undone; R3 never is); the secret downgrade is refused
// without its own confirmation by the API, the real `cbo rollback` command, the MCP tool and the
// dashboard (in Chromium: the same preview, then a second dialog for the downgrade) alike;
// confirmed, it lands, and `cbo status` shows the secret pinned older than the vault's current one.
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_TOOLS } from "../scripts/test-tools.ts";
import { createDaemonClient } from "../src/client/index.ts";
import type { RollbackPreview } from "../src/contract/index.ts";
import type { Daemon } from "../src/daemon.ts";
import { rollback as rollbackTool } from "../src/mcp/tools-write.ts";
import { startDaemonIn } from "./support/daemon-rig.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { httpGet } from "./support/http.ts";
import { runCbo } from "./support/run-cbo.ts";

const REGIONS = ["eu", "us", "ap"];
const SECRET = "SHOPIFY_WEBHOOK_SECRET";
const VALUES = ["whsec-first-aaaaaaaaaaaa", "whsec-second-bbbbbbbbbbb"];
const SPEC = `
targets:
  - { name: eu, api: local }
  - { name: us, api: local }
  - { name: ap, api: local }
rollout:
  waves: [[eu], [us, ap]]
  steps: [50, 100]
  gate: { probe_path: /health, bake_ms: 100, min_samples: 2, interval_ms: 20, failure_limit: 2 }
workers:
  - name: shop
    main: shop.js
    secrets: [${SECRET}]
`;
const WORKER = (tag: string, healthy = true) => `
export default {
  fetch(req, env) {
    if (new URL(req.url).pathname === "/health") return new Response("", { status: ${healthy ? 200 : 500} });
    return Response.json({ v: ${JSON.stringify(tag)}, secret: env.${SECRET} === ${JSON.stringify(VALUES[0])} ? 1 : env.${SECRET} === ${JSON.stringify(VALUES[1])} ? 2 : 0 });
  },
};
`;

describe("rollback says what it will do, goes to the last succeeded release, and asks for a secret downgrade", () => {
  let t: TestEdge;
  let dir: string;
  let d: Daemon;
  let token: string;
  const ids: Record<string, string> = {};
  const client = () => createDaemonClient({ url: d.url, token });
  const serves = async (region: string) => {
    const r = await httpGet(t.edge.region(region).port, "shop.localhost", { path: "/" });
    return JSON.parse(r.body) as { v: string; secret: number };
  };
  const release = async (tag: string, healthy = true) => {
    writeFileSync(join(dir, "shop.js"), WORKER(tag, healthy));
    const api = client();
    const started = await api.release("shop");
    for (;;) {
      const r = (await api.getRelease(started.id)).release;
      if (!["running", "rolling_back"].includes(r.status)) return r;
      await new Promise((res) => setTimeout(res, 50));
    }
  };
  /** The version a release uploaded to a target, from its journal. */
  const versionOf = (releaseId: string, region: string) =>
    String(d.store.releases.entries(releaseId).find((e) => e.kind === "uploaded" && e.target === region)!.data.versionId);

  beforeAll(async () => {
    t = await startTestEdge({ regions: REGIONS });
    dir = await makeTempDir("rollback-state");
    writeFileSync(join(dir, "orchestrator.yaml"), SPEC);
    writeFileSync(join(dir, "shop.js"), WORKER("r1"));
    d = await startDaemonIn(dir, t.edge);
    token = d.initialAdminToken!;
    await client().putSecret(SECRET, { value: VALUES[0]!, mode: "binding" });
    const r1 = await release("r1");
    expect(r1.status, r1.reason ?? "").toBe("succeeded");
    ids.r1 = r1.id;
    for (const region of REGIONS) ids[`r1:${region}`] = versionOf(r1.id, region);
    await client().putSecret(SECRET, { value: VALUES[1]!, mode: "binding" });
    const r2 = await release("r2");
    expect(r2.status, r2.reason ?? "").toBe("succeeded");
    ids.r2 = r2.id;
    for (const region of REGIONS) ids[`r2:${region}`] = versionOf(r2.id, region);
    const r3 = await release("r3", false);
    expect(r3.status, r3.reason ?? "").toBe("rolled_back");
    for (const region of REGIONS) expect(await serves(region)).toEqual({ v: "r2", secret: 2 });
  }, 180_000);
  afterAll(async () => {
    await d?.close();
    await t?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("the preview names per target the code, each secret's version change and the config version; R1 is the target", async () => {
    const p: RollbackPreview = await client().rollbackPreview("shop");
    expect(p.resolved).toBe(`the versions release ${ids.r1} shipped (the last that succeeded before ${ids.r2})`);
    expect(p.targets.map((x) => x.name)).toEqual(REGIONS);
    for (const x of p.targets) {
      expect(x.from).toBe(ids[`r2:${x.name}`]);
      expect(x.to).toBe(ids[`r1:${x.name}`]);
      expect(x.secrets).toEqual([{ name: SECRET, from: 2, to: 1, current: 2, change: "downgrade" }]);
      expect(x.config).toEqual({ version: null, change: "none", note: "no signed config published: nothing to change" });
    }
    expect(p.needs).toEqual({ confirmSecretDowngrade: true, force: false });
  });

  it("the API, the real CLI and the MCP tool refuse the downgrade without its own confirmation", { timeout: 60_000 }, async () => {
    const before = d.store.releases.list({ tenant: "default", limit: 100 }).length;
    const api = await fetch(new URL("/v1/workers/shop/rollback", d.url), {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: "{}",
    });
    expect(api.status).toBe(428);
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe("ERR_CONFIRMATION_REQUIRED");

    const cli = await runCbo(["rollback", "shop", "--url", d.url], { env: { CBO_TOKEN: token } });
    expect(cli.code, cli.stderr).toBe(1);
    for (const region of REGIONS) expect(cli.stdout).toContain(`${region}: code ${ids[`r2:${region}`]} -> ${ids[`r1:${region}`]}`);
    expect(cli.stdout).toContain(`secret ${SECRET}: v2 -> v1, DOWNGRADE (the vault's current is v2)`);
    expect(cli.stderr).toMatch(/ERR_CONFIRMATION_REQUIRED/);
    expect(cli.stderr).toContain("--confirm-secret-downgrade");

    // The MCP tool: unconfirmed, the preview (not the current versions); confirmed, still the downgrade question.
    const mcpApi = client().via("mcp:rollback");
    const unconfirmed = await rollbackTool.run({ worker: "shop" }, { api: mcpApi });
    expect(unconfirmed.kind).toBe("needs_confirmation");
    const text = (unconfirmed as { wouldDo: string }).wouldDo;
    expect(text).toContain(`to the versions release ${ids.r1} shipped`);
    expect(text).toContain(`eu: code ${ids["r2:eu"]} -> ${ids["r1:eu"]}`);
    const confirmed = await rollbackTool.run({ worker: "shop", confirm: true }, { api: mcpApi });
    expect(confirmed.kind).toBe("needs_confirmation");
    expect((confirmed as { wouldDo: string }).wouldDo).toContain("confirm_secret_downgrade: true");

    expect(d.store.releases.list({ tenant: "default", limit: 100 })).toHaveLength(before);
    for (const region of REGIONS) expect(await serves(region)).toEqual({ v: "r2", secret: 2 });
  });

  it("the dashboard shows the same preview and asks for the downgrade on its own", { timeout: 60_000 }, async () => {
    const browser = await chromium.launch({
      executablePath: TEST_TOOLS.chromium.path,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu"],
    });
    try {
      const page = await (await browser.newContext()).newPage();
      await page.goto(new URL("/ui/", d.url).href);
      await page.fill("#token", token);
      await page.click("button[type=submit]");
      await page.locator("nav a[data-nav=architecture][aria-current=page]").waitFor();
      await page.goto(new URL("/ui/#/releases?worker=shop", d.url).href);
      await expect.poll(() => page.locator("#rollback-to option").count()).toBeGreaterThan(1);
      await page.selectOption("#rollback-to", ids.r1!);
      await page.click("text=Roll back…");
      const first = page.locator("dialog.confirm[open]");
      await first.waitFor();
      const text = (await first.textContent()) ?? "";
      for (const region of REGIONS) expect(text).toContain(`${region}: code ${ids[`r2:${region}`]} -> ${ids[`r1:${region}`]}`);
      expect(text).toContain(`secret ${SECRET}: v2 -> v1, DOWNGRADE`);
      await first.locator("button[data-confirm]").click();
      // The downgrade is its own question; declining it starts nothing.
      const second = page.locator("dialog.confirm[open]");
      await expect.poll(() => second.textContent()).toContain("older secret version");
      const before = d.store.releases.list({ tenant: "default", limit: 100 }).length;
      await second.locator("button.secondary").click();
      await page.waitForTimeout(300);
      expect(d.store.releases.list({ tenant: "default", limit: 100 })).toHaveLength(before);
      for (const region of REGIONS) expect(await serves(region)).toEqual({ v: "r2", secret: 2 });
    } finally {
      await browser.close();
    }
  });

  it("confirmed, every target is on R1 with secret v1, and status shows the older pinned secret", { timeout: 60_000 }, async () => {
    const r = await rollbackTool.run(
      { worker: "shop", confirm: true, confirm_secret_downgrade: true },
      { api: client().via("mcp:rollback") },
    );
    expect(r.kind).toBe("done");
    expect((r as { summary: string }).summary).toMatch(/ended: succeeded/);
    for (const region of REGIONS) expect(await serves(region)).toEqual({ v: "r1", secret: 1 });
    const status = await runCbo(["status", "--url", d.url], { env: { CBO_TOKEN: token } });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain("secrets older than current");
    for (const region of REGIONS) expect(status.stdout).toContain(`shop/${region}  ${SECRET} pinned at v1, the vault's current is v2`);
    // The dashboard's architecture page says the same of each Worker node.
    const browser = await chromium.launch({
      executablePath: TEST_TOOLS.chromium.path,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu"],
    });
    try {
      const page = await (await browser.newContext()).newPage();
      await page.goto(new URL("/ui/", d.url).href);
      await page.fill("#token", token);
      await page.click("button[type=submit]");
      for (const region of REGIONS)
        await expect
          .poll(() => page.locator(`g.worker[data-worker="shop"][data-target="${region}"]`).getAttribute("aria-label"))
          .toContain("secrets older than current");
    } finally {
      await browser.close();
    }
  });
});
