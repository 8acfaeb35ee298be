// The client reads an answer only up to its limit, counting bytes while they stream in, and names
// the problem (not V8's "Cannot create a string longer than…"). A real HTTP server on 127.0.0.1.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as z from "zod";
import { MAX_DETAILS_BYTES } from "../src/audit/details-guard.ts";
import { MAX_ANSWER_BYTES, requestJson } from "../src/client/request.ts";
import { refusal } from "./support/refusal.ts";

const MiB = 1024 * 1024;
let server: Server;
let url: string;

/** `n` bytes of a JSON array of strings, written in 64 KiB chunks without a Content-Length. */
function jsonOf(n: number): Buffer {
  const item = `"${"x".repeat(1022)}"`;
  const count = Math.floor((n - 2) / (item.length + 1));
  return Buffer.from(`[${Array.from({ length: count }, () => item).join(",")}]`);
}

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === "/declared") {
      // Says it sends 600 MB; the client must not start reading it.
      res.writeHead(200, { "content-type": "application/json", "content-length": String(600 * 1000 * 1000) });
      res.write("[");
      req.socket.on("close", () => res.destroy());
      return;
    }
    const body = jsonOf(req.url === "/big" ? 3 * MiB : MiB - 4096);
    res.writeHead(200, { "content-type": "application/json" });
    let at = 0;
    const pump = () => {
      while (at < body.length) {
        const chunk = body.subarray(at, at + 64 * 1024);
        at += chunk.length;
        if (!res.write(chunk)) return void res.once("drain", pump);
      }
      res.end();
    };
    res.on("close", () => (at = body.length));
    pump();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

describe("the client's answer limit", () => {
  const conn = { token: "t", maxAnswerBytes: MiB };

  it("reads an answer under the limit", async () => {
    const list = await requestJson({ ...conn, url }, "GET", "/small", z.array(z.string()));
    expect(list.length).toBeGreaterThan(1000);
  });

  it("refuses a streamed answer once it passes the limit, naming it", async () => {
    const e = await refusal(requestJson({ ...conn, url }, "GET", "/big", z.array(z.string())));
    expect([e.code, e.message]).toEqual(["ERR_IO", "The daemon's answer to GET /big is larger than 1 MiB, more than this client reads."]);
    expect(e.hint).toContain("ask for less at a time");
  });

  it("refuses a declared 600 MB answer at once with the default limit", async () => {
    const e = await refusal(requestJson({ url, token: "t" }, "GET", "/declared", z.unknown()));
    expect(e.message).toBe("The daemon's answer to GET /declared is larger than 256 MiB, more than this client reads.");
  });

  it("the default is far above the largest real answer: an audit page of 10,000 entries at the details cap", () => {
    expect(MAX_ANSWER_BYTES).toBeGreaterThan(10_000 * MAX_DETAILS_BYTES * 1.5);
  });
});
