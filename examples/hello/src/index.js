// The example Worker that `npm start` deploys to every local region. It shows the three kinds of
// binding the local edge runs: a plain variable, a KV namespace and the version metadata, and it
// reports the region it runs in from request.cf.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/health") return Response.json({ ok: true, version: env.VERSION?.id ?? null });
    const visits = Number((await env.HELLO_KV.get("visits")) ?? "0") + 1;
    await env.HELLO_KV.put("visits", String(visits));
    return Response.json({
      message: `${env.GREETING} from ${request.cf?.colo ?? "an unknown colo"}`,
      // Change it without a redeploy: PUT a "motd" key into the hello-kv namespace of a region.
      motd: (await env.HELLO_KV.get("motd")) ?? "no message of the day yet: put a `motd` key in the hello-kv namespace",
      visits,
      version: env.VERSION?.id ?? null,
    });
  },
};
