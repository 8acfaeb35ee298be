// The example fleet as `npm start` runs it: the real `cbo up` (a child process) on the bundled
// examples/orchestrator.yaml, with a fresh data directory. Every Worker answers in all three
// regions, and the AdsEngineer-shaped flow works end to end in each: the tracking snippet (a static
// asset), a tracked click checked against the `sites` D1 database and counted by the site's rate
// limiter (a Durable Object), a signed order webhook (its secret relayed from the orchestrator)
// queued as a conversion that ads-conversions writes to the region's own D1, and the cron's rollup
// written to the region's R2 bucket and served back. Each region's D1 is its own, in its
// jurisdiction where Cloudflare has it.
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCloudflareClient } from "../src/cloudflare/index.ts";
import { makeTempDir } from "./support/edge.ts";
import { eventually, httpGet } from "./support/http.ts";
import { rawRequest } from "./support/raw-http.ts";
import { runCbo, startCbo } from "./support/run-cbo.ts";

type UpLine = {
  apiUrl: string;
  adminTokenFile: string;
  edgeApiUrl: string;
  releases: Array<{ worker: string; status: string; reason: string | null }>;
  configs: Array<{ worker: string; version: number | null }>;
  workers: Array<{ worker: string; target: string; url: string | null }>;
};

describe("the example fleet, released by `cbo up` (npm start)", () => {
  let dir: string;
  let up: ReturnType<typeof startCbo>;
  let out: UpLine;
  const data = () => join(dir, "data");
  const portOf = (target: string) => Number(new URL(out.workers.find((w) => w.target === target)!.url!).port);
  // node:http, not fetch: fetch drops the Host header that picks the Worker.
  const call = async (target: string, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) => {
    const r = await rawRequest(`http://127.0.0.1:${portOf(target)}`, {
      path,
      method: init.method ?? "GET",
      headers: { host: "ads-api.localhost", ...init.headers },
      ...(init.body === undefined ? {} : { body: init.body }),
    });
    return { status: r.status, text: async () => r.text, json: async () => JSON.parse(r.text) as unknown };
  };

  beforeAll(async () => {
    dir = await makeTempDir("example-fleet");
    // No orchestrator.yaml in the working directory: `cbo up` takes the bundled example, as `npm start` does.
    up = startCbo(["up", "--json", "--data", data(), "--port", "0", "--edge-port", "0"], { cwd: dir });
    const deadline = Date.now() + 240_000;
    while (!up.output.stdout.includes("\n")) {
      if (up.exitCode !== null || Date.now() > deadline)
        throw new Error(`cbo up did not come up:\n${up.output.stdout}\n${up.output.stderr}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    out = JSON.parse(up.output.stdout.split("\n")[0]!) as UpLine;
  }, 300_000);
  afterAll(async () => {
    up?.kill("SIGTERM");
    await up?.done;
  });

  it("releases every Worker to every region, and each answers there", { timeout: 60_000 }, async () => {
    expect(out.releases.map((r) => [r.worker, r.status, r.reason])).toEqual(
      ["ads-attribution", "ads-api", "ads-conversions"].map((w) => [w, "succeeded", "every step passed on eu, us, ap"]),
    );
    expect(out.configs).toMatchObject([{ worker: "ads-api", version: 1 }]);
    // The seeded secret's next step runs as printed: npx (cbo is not on PATH), and this --data.
    expect(up.output.stderr).toContain(`replace it with: npx cbo secrets set SHOPIFY_WEBHOOK_SECRET --from-file <file> --data ${data()}\n`);
    expect(out.workers).toHaveLength(9);
    for (const w of out.workers) {
      const u = new URL(w.url!);
      const r = await httpGet(Number(u.port), u.hostname, { path: "/health" });
      expect(r.status, `${w.worker} @ ${w.target}: ${r.body}`).toBe(200);
    }
  });

  it("each region tracks, rate-limits, queues conversions into its own D1 and rolls them up into its own R2", {
    timeout: 120_000,
  }, async () => {
    const token = readFileSync(out.adminTokenFile, "utf8").trim();
    const got = await runCbo(["secrets", "get", "SHOPIFY_WEBHOOK_SECRET", "--data", data(), "--token", token]);
    expect(got.code, got.stderr).toBe(0);
    const secret = got.stdout.trim().split("\n").at(-1)!;
    const edgeToken = readFileSync(join(data(), "edge", "token"), "utf8").trim();
    const uuids = new Set<string>();
    for (const target of ["eu", "us", "ap"]) {
      const snippet = await call(target, "/snippet.js");
      expect(await snippet.text()).toContain('getAttribute("data-site")');
      // eu's config asks for consent first; the click then counts against the site's limiter.
      const click = await call(target, `/t?s=demo-shop&c=spring-sale&id=c_spring-sale_${target}`, { headers: { "x-consent": "granted" } });
      expect(await click.json()).toMatchObject({ tracked: true, site: "demo-shop", hits: 1 });
      expect((await call(target, "/t?s=nope&c=spring-sale", { headers: { "x-consent": "granted" } })).status).toBe(404);

      const body = JSON.stringify({
        id: `order-${target}`,
        total_price: "49.90",
        note_attributes: [{ name: "click_id", value: `c_spring-sale_${target}` }],
      });
      const order = await call(target, "/webhooks/shopify/orders", {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-shopify-shop-domain": "demo-shop.myshopify.com",
          "x-shopify-hmac-sha256": createHmac("sha256", secret).update(body).digest("base64"),
        },
        body,
      });
      expect(await order.json()).toMatchObject({ accepted: true, campaign: "spring-sale", site: "demo-shop", queued: true });
      await eventually(
        async () => {
          const site = (await (await call(target, "/v1/sites/demo-shop")).json()) as {
            conversions: Array<{ order_id: string; value_cents: number }>;
          };
          // Only this region's order: each region has a database of its own.
          expect(site.conversions).toEqual([expect.objectContaining({ order_id: `order-${target}`, value_cents: 4990 })]);
        },
        20_000,
        200,
      );
      const fired = await runCbo(["edge", "trigger", target, "ads-conversions", "--cron", "*/5 * * * *", "--data", join(data(), "edge")]);
      expect(fired.code, fired.stdout + fired.stderr).toBe(0);
      const csv = await call(target, "/exports/rollups-latest.csv");
      expect(await csv.text()).toMatch(/^site_id,day,conversions,value_cents\ndemo-shop,\d{4}-\d{2}-\d{2},1,4990\n$/);

      const region = JSON.parse(readFileSync(join(data(), "edge", "edge.json"), "utf8")).regions.find(
        (r: { name: string }) => r.name === target,
      );
      const client = createCloudflareClient({ baseUrl: out.edgeApiUrl, apiToken: edgeToken, accountId: region.accountId });
      const db = await client.getD1Database("sites");
      expect(db?.jurisdiction ?? null, target).toBe(target === "ap" ? null : target);
      uuids.add(db!.uuid);
    }
    expect(uuids.size).toBe(3);
  });
});
