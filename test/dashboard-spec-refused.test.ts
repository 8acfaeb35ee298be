// The dashboard in real Chromium (Debian's, through playwright-core) says when the daemon refuses
// orchestrator.yaml on disk: a banner with the file and the reason appears on the next answer the
// page gets, and goes once the file is fixed. The real daemon (startDaemon) runs a spec with one
// local target and no workers, so nothing calls the edge: its address book is a stand-in.
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_TOOLS } from "../scripts/test-tools.ts";
import { startDaemon, type Daemon } from "../src/daemon.ts";
import { UNREACHABLE_EDGE as EDGE } from "./support/daemon-rig.ts";
import { makeTempDir } from "./support/edge.ts";

const ARTIFACTS = fileURLToPath(new URL("../test-artifacts/dashboard/", import.meta.url));
const SPEC = "version: 1\ntargets:\n  - { name: eu, api: local }\n";
// A stand-in for the local edge's address book only: with no workers nothing ever calls it.

describe("the dashboard's banner for a refused orchestrator.yaml", () => {
  let dir: string;
  let daemon: Daemon;
  let browser: Browser;
  let page: Page;
  const file = () => join(dir, "orchestrator.yaml");
  let bump = 0;
  const write = (text: string) => {
    writeFileSync(file(), text);
    const at = new Date(Date.now() + ++bump * 2000);
    utimesSync(file(), at, at);
  };
  const banner = () => page.locator("[data-spec-refused]");
  // A page change asks the daemon again; its answer carries the refusal (or not).
  const go = async (nav: string) => {
    await new Promise((r) => setTimeout(r, 300)); // the daemon looks at the file at most every 250 ms
    await page.click(`nav a[data-nav=${nav}]`);
  };

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    dir = await makeTempDir("dashboard-spec");
    writeFileSync(file(), SPEC);
    daemon = await startDaemon({
      dataDir: join(dir, "data"),
      configFile: file(),
      edge: EDGE,
      port: 0,
      env: { CBO_MASTER_KEY: randomBytes(32).toString("base64") },
      log: () => {},
    });
    browser = await chromium.launch({ executablePath: TEST_TOOLS.chromium.path, headless: true, args: ["--no-sandbox", "--disable-gpu"] });
    page = await (await browser.newContext()).newPage();
    await page.goto(new URL("/ui/", daemon.url).href);
    await page.fill("#token", readFileSync(join(dir, "data", "admin-token"), "utf8").trim());
    await page.click("button[type=submit]");
    await page.locator("nav a[data-nav=architecture][aria-current=page]").waitFor();
  });
  afterAll(async () => {
    await browser?.close();
    await daemon?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("shows no banner while the file validates", async () => {
    await go("releases");
    await page.locator("[data-page=releases]").waitFor();
    expect(await banner().isHidden()).toBe(true);
  });

  it("shows the file and the reason once the file is refused, and hides it once it is fixed", async () => {
    write(`${SPEC}rollout: [unclosed\n`);
    await go("audit");
    await banner().waitFor({ state: "visible", timeout: 10_000 });
    const text = (await banner().textContent()) ?? "";
    expect(text).toContain("orchestrator.yaml is refused");
    expect(text).toContain(`${file()}: it does not validate:`);
    expect(await banner().getAttribute("role")).toBe("alert");
    await page.screenshot({ path: join(ARTIFACTS, "spec-refused.png"), fullPage: true });
    write(SPEC);
    await go("releases");
    await banner().waitFor({ state: "hidden", timeout: 10_000 });
  });
});
