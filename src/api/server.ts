// Serves an API on a node:http server: REST through Hono's node adapter, the event stream through
// the server's upgrade requests. Loopback only unless the caller opts in: the daemon is meant to be
// reached from outside through Cloudflare Tunnel, never by binding a public address.
import type { AddressInfo } from "node:net";
import { createServer, type Server } from "node:http";
import { getRequestListener } from "@hono/node-server";
import { CboError } from "../kit/errors.ts";
import type { Api } from "./app.ts";
import { adapterRefusal, answerClientError } from "./client-error.ts";
import { portError } from "./port-check.ts";

export type ApiServer = { url: string; port: number; close(): Promise<void> };

export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || /^127(\.\d{1,3}){3}$/.test(host);
}

export async function startApiServer(opts: { api: Api; host?: string; port?: number; allowPublic?: boolean }): Promise<ApiServer> {
  const host = opts.host ?? "127.0.0.1";
  if (!isLoopback(host) && opts.allowPublic !== true) {
    throw new CboError("ERR_VALIDATION", `Refusing to serve the API on ${host}: it binds to loopback only.`, {
      hint: "Use 127.0.0.1 and reach the daemon from outside through Cloudflare Tunnel, or pass allowPublic: true deliberately.",
    });
  }
  const server = await new Promise<Server>((resolve, reject) => {
    const hostname = host.replace(/^\[|\]$/g, "");
    // Hono's node adapter, as its serve() wires it, plus answers in the API's error shape for
    // requests that never reach the app (client-error.ts). A request without a Host is left to
    // the Host check (421, as for HTTP/1.0) rather than node's bare 400.
    const s = createServer(
      { requireHostHeader: false },
      getRequestListener(headAsGet(opts.api.app.fetch), { hostname, errorHandler: adapterRefusal }),
    );
    s.on("clientError", answerClientError);
    s.listen(opts.port ?? 0, hostname);
    s.once("listening", () => resolve(s));
    s.once("error", (e: NodeJS.ErrnoException) =>
      reject(portError(host, { port: opts.port ?? 0, what: "the API", flag: "--port" }, e.code, e)),
    );
  });
  const stream = opts.api.attach(server);
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  let closed: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    close() {
      closed ??= (async () => {
        await stream.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      })();
      return closed;
    },
  };
}

type Fetch = (req: Request, env: unknown) => Response | Promise<Response>;

/**
 * HEAD as GET without the body. Hono answers HEAD itself by wrapping GET's answer
 * (`new Response(null, res)`), and with the node adapter's lightweight Response that keeps only
 * the headers the answer was made with: the ones middleware adds (security headers, request id,
 * Allow on a 405) were lost, and HEAD said less than GET about the same resource.
 */
function headAsGet(fetch: Fetch): Fetch {
  return async (req, env) => {
    if (req.method !== "HEAD") return fetch(req, env);
    const res = await fetch(new Request(req.url, { method: "GET", headers: req.headers, signal: req.signal }), env);
    // Headers first: reading the adapter's Response's body rebuilds it from what it was made with.
    const head = { status: res.status, headers: new Headers(res.headers) };
    await res.body?.cancel();
    return new Response(null, head);
  };
}
