// The example fleet's second Worker, reached only through ads-api's service binding: which
// campaign an order came from. Click ids look like `c_<campaign>_<random>` (last-click model).
export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/health") return Response.json({ ok: true });
    if (request.method !== "POST" || url.pathname !== "/attribute") return Response.json({ error: "POST /attribute" }, { status: 404 });
    const { click } = (await request.json()) as { click?: string | null };
    const m = /^c_([a-z0-9-]+)_/.exec(click ?? "");
    return Response.json({ campaign: m ? m[1] : null, model: "last-click" });
  },
} satisfies ExportedHandler;
