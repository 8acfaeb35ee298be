// nodeFetch against real HTTP servers on 127.0.0.1: what the transport relies on of fetch.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeFetch } from "./node-fetch.ts";

type Seen = { method: string; url: string; headers: IncomingMessage["headers"]; body: string };

async function serve(handler: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => handler(req, res, Buffer.concat(chunks).toString("utf8")));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe("nodeFetch", () => {
  let main: { server: Server; url: string };
  let other: { server: Server; url: string };
  const seen: Seen[] = [];

  beforeAll(async () => {
    other = await serve((req, res, body) => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      res.end("elsewhere");
    });
    main = await serve((req, res, body) => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      const path = req.url!;
      if (path === "/echo") {
        res.setHeader("content-type", "application/json");
        res.setHeader("x-two", ["a", "b"]);
        return res.end(JSON.stringify({ method: req.method, type: req.headers["content-type"] ?? null, body }));
      }
      if (path === "/gzip") {
        res.setHeader("content-encoding", "gzip");
        return res.end(gzipSync(Buffer.from('{"zipped":true}')));
      }
      if (path === "/empty") return res.writeHead(204).end();
      if (path === "/see-other") return res.writeHead(303, { location: "/echo" }).end();
      if (path === "/away") return res.writeHead(307, { location: `${other.url}/landed` }).end();
      if (path === "/loop") return res.writeHead(302, { location: "/loop" }).end();
      if (path === "/slow-body") {
        res.writeHead(200, { "content-length": "10" });
        res.write("12345");
        return; // the rest never comes
      }
      if (path === "/cut") {
        res.writeHead(200, { "content-length": "10" });
        res.write("12345");
        return void setTimeout(() => res.socket?.destroy(), 20);
      }
      res.writeHead(404).end("no");
    });
  });
  afterAll(async () => {
    for (const s of [main?.server, other?.server]) {
      s?.closeAllConnections();
      await new Promise((r) => s?.close(r));
    }
  });

  it("sends strings, bytes, FormData and URLSearchParams with fetch's content types, and answers a Web Response", async () => {
    const text = await nodeFetch(`${main.url}/echo`, { method: "post", body: "hi" });
    expect(text.status).toBe(200);
    expect(text.headers.get("x-two")).toBe("a, b");
    expect(await text.json()).toEqual({ method: "POST", type: "text/plain;charset=UTF-8", body: "hi" });

    const bytes = await nodeFetch(`${main.url}/echo`, {
      method: "PUT",
      body: new TextEncoder().encode("raw"),
      headers: { "content-type": "x/y" },
    });
    expect(await bytes.json()).toEqual({ method: "PUT", type: "x/y", body: "raw" });

    const form = new FormData();
    form.set("metadata", new Blob(['{"a":1}'], { type: "application/json" }), "metadata.json");
    form.set("part", "value");
    const multipart = (await (await nodeFetch(`${main.url}/echo`, { method: "PUT", body: form })).json()) as { type: string; body: string };
    const boundary = /^multipart\/form-data; boundary=(.+)$/.exec(multipart.type)?.[1];
    expect(boundary).toBeDefined();
    // The server side parses it back as the same form: what the Cloudflare API receives.
    const parsed = await new Response(multipart.body, { headers: { "content-type": multipart.type } }).formData();
    expect(await (parsed.get("metadata") as File).text()).toBe('{"a":1}');
    expect(parsed.get("part")).toBe("value");

    const params = await nodeFetch(`${main.url}/echo`, { method: "POST", body: new URLSearchParams({ a: "1 2" }) });
    expect(await params.json()).toEqual({ method: "POST", type: "application/x-www-form-urlencoded;charset=UTF-8", body: "a=1+2" });
  });

  it("decodes gzip, answers 204 without a body, and follows redirects as fetch does", async () => {
    expect(await (await nodeFetch(`${main.url}/gzip`)).json()).toEqual({ zipped: true });
    const empty = await nodeFetch(`${main.url}/empty`);
    expect(empty.status).toBe(204);
    expect(empty.body).toBeNull();

    const seeOther = await nodeFetch(`${main.url}/see-other`, { method: "POST", body: "dropped" });
    expect(await seeOther.json()).toEqual({ method: "GET", type: null, body: "" });

    seen.length = 0;
    const away = await nodeFetch(`${main.url}/away`, { headers: { authorization: "Bearer secret-token" } });
    expect(await away.text()).toBe("elsewhere");
    // Sent to the first origin, never to the one it was redirected to.
    expect(seen.map((s) => [s.url, s.headers.authorization ?? null])).toEqual([
      ["/away", "Bearer secret-token"],
      ["/landed", null],
    ]);

    await expect(nodeFetch(`${main.url}/loop`)).rejects.toThrow(TypeError);
    const manual = await nodeFetch(`${main.url}/loop`, { redirect: "manual" });
    expect(manual.status).toBe(302);
  });

  it("ends at the signal (its reason), and fails like fetch on network errors and cut-off bodies", async () => {
    const started = Date.now();
    await expect(nodeFetch(`${main.url}/slow-body`, { signal: AbortSignal.timeout(150) })).rejects.toMatchObject({ name: "TimeoutError" });
    expect(Date.now() - started).toBeLessThan(5_000);
    const aborted = new AbortController();
    aborted.abort(new Error("caller gave up"));
    await expect(nodeFetch(`${main.url}/echo`, { signal: aborted.signal })).rejects.toThrow("caller gave up");

    await expect(nodeFetch(`${main.url}/cut`)).rejects.toMatchObject({ name: "TypeError", message: "fetch failed" });
    const closed = await serve(() => {});
    const port = (closed.server.address() as AddressInfo).port;
    await new Promise((r) => closed.server.close(r));
    const refused = await nodeFetch(`http://127.0.0.1:${port}/`).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TypeError);
    expect((refused as { cause?: { code?: string } }).cause?.code).toBe("ECONNREFUSED");
  });
});
