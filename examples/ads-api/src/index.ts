// The example fleet's public API, AdsEngineer-style: an existing Hono Workers app that mounts the
// orchestrator's edge agent. Shops embed its tracking snippet (a static asset, /snippet.js), which
// reports clicks to /t: each site is a row of the `sites` D1 database and has its own rate limiter
// (a Durable Object). Shopify-style order webhooks are HMAC-verified with a secret relayed from the
// orchestrator (never stored at Cloudflare), attributed by a second Worker (ads-attribution, a
// service binding) and queued as conversions (`conversions`, consumed by ads-conversions, which
// writes them to D1 and rolls them up into R2 exports served at /exports/...). What it may do is in
// signed config the orchestrator publishes (`cbo config publish`).
import { Hono } from "hono";
import * as z from "zod";
import { createEdgeAgent } from "clawdbot-orchestrator/edge";

export { RateLimiter } from "./rate-limiter.ts";
import type { RateLimiter } from "./rate-limiter.ts";

/** The config this app accepts; a signed bundle that does not fit is refused (invalid_config). */
const Config = z.object({
  currency: z.string().length(3),
  tracking: z.object({ enabled: z.boolean(), campaigns: z.array(z.string()) }),
  consentRequired: z.boolean().default(false),
  motd: z.string().default(""),
});
type Config = z.infer<typeof Config>;

type Env = {
  EVENTS: KVNamespace;
  DB: D1Database;
  CONVERSIONS: Queue<Conversion>;
  EXPORTS: R2Bucket;
  RATE_LIMITER: DurableObjectNamespace<RateLimiter>;
  ATTRIBUTION: Fetcher;
  CBO_TARGET?: string;
  CBO_VERSION?: { id: string };
};

/** What goes on the `conversions` queue (ads-conversions/src/index.ts reads the same shape). */
type Conversion = { site: string; order: string; valueCents: number; currency: string; campaign: string | null; at: string };

const agent = createEdgeAgent<Config>({ configSchema: Config });
const app = new Hono<{ Bindings: Env }>();
app.route("/orchestrator", agent.app);

/** Until the first signed config arrives the app runs in its safest mode: tracking off. */
const SAFE: Config = { currency: "USD", tracking: { enabled: false, campaigns: [] }, consentRequired: true, motd: "" };
const configOf = (_c: unknown): Config => agent.config() ?? SAFE;

app.get("/health", (c) => c.json({ ok: true, version: c.env.CBO_VERSION?.id ?? null, configVersion: agent.configVersion() }));

app.get("/", (c) => {
  const cfg = configOf(c);
  return c.json({
    service: "ads-api",
    target: c.env.CBO_TARGET ?? null,
    configVersion: agent.configVersion(),
    currency: cfg.currency,
    tracking: cfg.tracking.enabled,
    motd: cfg.motd,
  });
});

// Tracking pixel / redirect (the snippet's beacon): /t?s=<site>&c=<campaign>&u=<landing url>&id=<click id>
app.get("/t", async (c) => {
  const cfg = configOf(c);
  const campaign = c.req.query("c") ?? "";
  const landing = c.req.query("u");
  if (!cfg.tracking.enabled) return c.json({ tracked: false, reason: "tracking is off in this region's config" }, 202);
  if (cfg.consentRequired && c.req.header("x-consent") !== "granted") return c.json({ tracked: false, reason: "consent required" }, 202);
  if (!cfg.tracking.campaigns.includes(campaign)) return c.json({ tracked: false, reason: `unknown campaign ${campaign}` }, 404);
  const site = await siteOf(c.env, c.req.query("s"));
  if (!site) return c.json({ tracked: false, reason: `unknown site ${c.req.query("s") ?? "(none)"}` }, 404);
  const limit = await c.env.RATE_LIMITER.get(c.env.RATE_LIMITER.idFromName(site.id)).hit(site.rate_per_min);
  if (!limit.allowed) {
    c.header("retry-after", String(Math.ceil(limit.resetInMs / 1000)));
    return c.json({ tracked: false, reason: `site ${site.id} is over ${site.rate_per_min} hits a minute` }, 429);
  }
  const click = c.req.query("id") ?? crypto.randomUUID();
  await c.env.EVENTS.put(`click:${click}`, JSON.stringify({ site: site.id, campaign, at: new Date().toISOString() }), {
    expirationTtl: 30 * 86400,
  });
  if (landing && /^https:\/\//.test(landing)) return c.redirect(landing, 302);
  return c.json({ tracked: true, click, campaign, site: site.id, hits: limit.count });
});

/** A site by id, from the `sites` database. */
async function siteOf(env: Env, id: string | undefined): Promise<{ id: string; domain: string; rate_per_min: number } | null> {
  if (!id) return null;
  return env.DB.prepare("SELECT id, domain, rate_per_min FROM sites WHERE id = ?").bind(id).first();
}

// A site's conversions and daily rollups, as ads-conversions wrote them.
app.get("/v1/sites/:id", async (c) => {
  const site = await siteOf(c.env, c.req.param("id"));
  if (!site) return c.json({ error: `no site ${c.req.param("id")}` }, 404);
  const [conversions, rollups] = await c.env.DB.batch([
    c.env.DB.prepare("SELECT order_id, value_cents, currency, campaign FROM conversions WHERE site_id = ? ORDER BY received_at").bind(
      site.id,
    ),
    c.env.DB.prepare("SELECT day, conversions, value_cents FROM rollups WHERE site_id = ? ORDER BY day").bind(site.id),
  ]);
  return c.json({ site, conversions: conversions!.results, rollups: rollups!.results });
});

// The rollup exports the cron of ads-conversions writes to R2.
app.get("/exports/:name", async (c) => {
  const object = await c.env.EXPORTS.get(`exports/${c.req.param("name")}`);
  if (!object) return c.json({ error: `no export ${c.req.param("name")} yet (the rollup runs every 5 minutes)` }, 404);
  return new Response(object.body, { headers: { "content-type": object.httpMetadata?.contentType ?? "text/csv" } });
});

// Shopify-style order webhook: X-Shopify-Hmac-Sha256 = base64(HMAC-SHA256(secret, raw body)).
app.post("/webhooks/shopify/orders", async (c) => {
  const raw = await c.req.text();
  const given = c.req.header("x-shopify-hmac-sha256") ?? "";
  // The request goes along so that the relay fetch continues its trace (traceparent).
  const secret = await agent.secret("SHOPIFY_WEBHOOK_SECRET", c.req.raw);
  if (!(await validHmac(secret, raw, given))) return c.json({ error: "invalid webhook signature" }, 401);
  let order: { id?: unknown; total_price?: unknown; note_attributes?: Array<{ name: string; value: string }> };
  try {
    order = JSON.parse(raw);
  } catch {
    return c.json({ error: "the body is not JSON" }, 400);
  }
  if (typeof order.id !== "number" && typeof order.id !== "string") return c.json({ error: "an order needs an id" }, 400);
  const click = order.note_attributes?.find((a) => a.name === "click_id")?.value ?? null;
  const attribution = (await (
    await c.env.ATTRIBUTION.fetch("https://attribution/attribute", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ click }),
    })
  ).json()) as { campaign: string | null };
  const record = {
    order: String(order.id),
    total: String(order.total_price ?? "0"),
    currency: configOf(c).currency,
    campaign: attribution.campaign,
  };
  await c.env.EVENTS.put(`order:${record.order}`, JSON.stringify(record));
  // The shop's domain names its site; ads-conversions writes the conversion to D1 from the queue.
  const site = await c.env.DB.prepare("SELECT id FROM sites WHERE domain = ?")
    .bind(c.req.header("x-shopify-shop-domain") ?? "")
    .first<{ id: string }>();
  if (site) {
    const cents = Math.round(Number.parseFloat(record.total) * 100);
    await c.env.CONVERSIONS.send({
      site: site.id,
      order: record.order,
      valueCents: Number.isFinite(cents) ? cents : 0,
      currency: record.currency,
      campaign: record.campaign,
      at: new Date().toISOString(),
    });
  }
  return c.json({ accepted: true, ...record, site: site?.id ?? null, queued: site !== null });
});

/** Constant-time comparison of the expected and given signatures. */
async function validHmac(secret: string, body: string, given: string): Promise<boolean> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(body)));
  const expected = btoa(String.fromCharCode(...mac));
  if (expected.length !== given.length) return false;
  let diff = 0;
  for (let i = 0; i < expected.length; i++) diff |= expected.charCodeAt(i) ^ given.charCodeAt(i);
  return diff === 0;
}

// The wrapper counts traffic and runs the agent's cron work; it costs less than a Hono middleware.
export default agent.wrap(app);
