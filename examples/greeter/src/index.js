// A second example Worker, released from its wrangler.jsonc: it calls `hello` through a service
// binding, to show Workers talking to each other inside a region.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/health") return new Response("ok");
    const upstream = await env.HELLO.fetch("http://hello/");
    const hello = await upstream.json();
    return Response.json({ greeter: `${env.PREFIX} ${hello.message}`, upstreamVersion: hello.version });
  },
};
