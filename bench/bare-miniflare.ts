// The baseline: one Worker on bare Miniflare, no local edge in front of it. By default requests
// go through Miniflare's entry Worker (its usual URL); `directSocket` serves the Worker from its
// own workerd socket instead, as the local edge's regions do, to separate the entry Worker's
// cost from the edge's own.
import { Miniflare } from "miniflare";

export const TRIVIAL_WORKER = `export default { fetch() { return new Response("ok") } }`;

export async function startBareMiniflare(
  opts: { code?: string; directSocket?: boolean } = {},
): Promise<{ url: string; close(): Promise<void> }> {
  const mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    workers: [
      {
        config: {
          name: "bare",
          compatibilityDate: "2025-01-01",
          manifest: {
            mainModule: "index.js",
            modules: { "index.js": { type: "esm", contents: opts.code ?? TRIVIAL_WORKER } },
          },
        },
        ...(opts.directSocket ? { dev: { unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }] } } : {}),
      },
    ],
  });
  const url = opts.directSocket ? (await mf.ready, await mf.unsafeGetDirectURL("bare")) : await mf.ready;
  return { url: url.href, close: () => mf.dispose() };
}
