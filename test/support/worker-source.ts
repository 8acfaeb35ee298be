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
