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
