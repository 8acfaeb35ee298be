// Source of the test Workers: each build answers JSON with its own tag, so a test can tell which
// version served a request, and echoes what it sees of its bindings (var, secrets, KV).
export function workerSource(tag: string): string {
  return `export default {
  async fetch(req, env) {
    const kv = env.MY_KV ? await env.MY_KV.get("k") : null;
    return new Response(JSON.stringify({
      v: ${JSON.stringify(tag)},
      greeting: env.GREETING ?? null,
      secret: env.API_KEY ?? null,
      other: env.OTHER ?? null,
      kv,
    }), { headers: { "content-type": "application/json" } });
  },
};
`;
}

/**
 * A Worker that needs the D1 migrations `need` applied (binding DB): /health answers 500 without
 * them, / says its tag and whether it has them. For releases whose code must never run ahead of its schema.
 */
export function schemaNeedingSource(tag: string, need: string[]): string {
  return `
export default {
  async fetch(req, env) {
    const { results } = await env.DB.prepare("SELECT name FROM d1_migrations").all();
    const have = new Set(results.map((r) => r.name));
    const ok = ${JSON.stringify(need)}.every((n) => have.has(n));
    if (new URL(req.url).pathname === "/health") return new Response(ok ? "ok" : "schema missing", { status: ok ? 200 : 500 });
    return Response.json({ v: ${JSON.stringify(tag)}, ok });
  },
};
`;
}

/** A Durable Object class counting calls in its storage (`n`), under `name`. */
const counterClass = (name: string) => `
export class ${name} extends DurableObject {
  async increment() {
    const n = (this.ctx.storage.kv.get("n") ?? 0) + 1;
    this.ctx.storage.kv.put("n", n);
    return n;
  }
}`;

/**
 * A Worker exporting counting Durable Object `classes`: /health answers ok, /count and /limit
 * increment the object "a" of binding COUNTER and LIMITER, every answer carries its tag. For the
 * releases that add, keep or delete classes.
 */
export function countingObjectsSource(tag: string, classes: string[]): string {
  return `
import { DurableObject } from "cloudflare:workers";
${classes.map(counterClass).join("\n")}
export default {
  async fetch(req, env) {
    const url = new URL(req.url);
    if (url.pathname === "/health") return new Response("ok");
    if (url.pathname === "/count") return Response.json({ v: ${JSON.stringify(tag)}, n: await env.COUNTER.get(env.COUNTER.idFromName("a")).increment() });
    if (url.pathname === "/limit") return Response.json({ v: ${JSON.stringify(tag)}, n: await env.LIMITER.get(env.LIMITER.idFromName("a")).increment() });
    return Response.json({ v: ${JSON.stringify(tag)} });
  },
};
`;
}
