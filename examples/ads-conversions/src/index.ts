// The example fleet's conversions Worker: it consumes the `conversions` queue (ads-api produces
// it from attributed order webhooks) and writes each conversion to the `sites` D1 database, once
// per order however often the queue delivers it; every 5 minutes its cron rolls the conversions
// up per site and day, and writes the rollup as CSV to the `ads-exports` R2 bucket
// (exports/rollups-latest.csv, which ads-api serves).
type Conversion = { site: string; order: string; valueCents: number; currency: string; campaign: string | null; at: string };

type Env = { DB: D1Database; EXPORTS: R2Bucket };

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/health") return Response.json({ ok: true });
    return Response.json({ error: "ads-conversions has no public API: it consumes the conversions queue" }, { status: 404 });
  },

  async queue(batch: MessageBatch<Conversion>, env: Env): Promise<void> {
    const insert = env.DB.prepare(
      "INSERT INTO conversions (order_id, site_id, value_cents, currency, campaign, received_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (order_id) DO NOTHING",
    );
    // One transaction for the batch: a failure retries the whole batch, and the insert is idempotent.
    await env.DB.batch(
      batch.messages.map((m) => insert.bind(m.body.order, m.body.site, m.body.valueCents, m.body.currency, m.body.campaign, m.body.at)),
    );
    batch.ackAll();
  },

  async scheduled(_controller: ScheduledController, env: Env): Promise<void> {
    await rollUp(env);
  },
} satisfies ExportedHandler<Env, Conversion>;

/** Recomputes every site's daily rollups and writes them to R2 as CSV. */
export async function rollUp(env: Env): Promise<number> {
  await env.DB.exec(
    "INSERT OR REPLACE INTO rollups (site_id, day, conversions, value_cents) SELECT site_id, substr(received_at, 1, 10), COUNT(*), SUM(value_cents) FROM conversions GROUP BY site_id, substr(received_at, 1, 10)",
  );
  const { results } = await env.DB.prepare("SELECT site_id, day, conversions, value_cents FROM rollups ORDER BY site_id, day").all<{
    site_id: string;
    day: string;
    conversions: number;
    value_cents: number;
  }>();
  const csv = [
    "site_id,day,conversions,value_cents",
    ...results.map((r) => `${r.site_id},${r.day},${r.conversions},${r.value_cents}`),
  ].join("\n");
  await env.EXPORTS.put("exports/rollups-latest.csv", `${csv}\n`, { httpMetadata: { contentType: "text/csv; charset=utf-8" } });
  return results.length;
}
