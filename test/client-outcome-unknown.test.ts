// The daemon client against a real HTTP server that reads a request and drops the connection: what
// the CLI meets when the daemon is killed or restarts while it handles a mutation. (Here, not beside
// src/client: that code also runs in the browser and may not import Node's built-ins, tests included.)
import { createServer } from "node:http";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import { requestJson } from "../src/client/request.ts";
import { refusal } from "./support/refusal.ts";

// Port 9 (discard): fetch never dials it, so nothing is sent.
const NOWHERE = "http://127.0.0.1:9";

describe("a mutation whose connection breaks after it was sent", () => {
  // A server that reads each request and then drops the connection without answering: what a
  // client sees when the daemon is killed (or restarts) while it handles the request.
  async function dropper(): Promise<{ url: string; seen: string[]; close: () => Promise<void> }> {
    const seen: string[] = [];
    const server = createServer((req) => {
      seen.push(`${req.method} ${req.url}`);
      req.socket.destroy();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as { port: number };
    return { url: `http://127.0.0.1:${port}`, seen, close: () => new Promise((r) => server.close(() => r())) };
  }

  it("says the daemon may have done it and to check before running it again; a read or a refused connection does not", async () => {
    const d = await dropper();
    try {
      const post = await refusal(requestJson({ url: d.url }, "POST", "/v1/workers/api/releases", z.unknown(), {}));
      expect(post.code).toBe("ERR_IO");
      expect(post.message).toContain("POST /v1/workers/api/releases had been sent, so the daemon may have done it");
      expect(post.hint).toContain("check what it did");
      // A keyed mutation is retried with its key; all attempts cut off, it says the same.
      const keyed = await refusal(requestJson({ url: d.url }, "POST", "/v1/secrets/X/deliver", z.unknown(), {}, { idempotencyKey: "k1" }));
      expect(keyed.message).toContain("may have done it");
      expect(d.seen.filter((s) => s === "POST /v1/secrets/X/deliver")).toHaveLength(3);
      // A read changes nothing: the plain "not answering".
      const get = await refusal(requestJson({ url: d.url }, "GET", "/v1/status", z.unknown()));
      expect(get.message).toBe(`The daemon at ${d.url} is not answering.`);
    } finally {
      await d.close();
    }
    // Refused: the request never left this machine, nothing can have been done.
    const refused = await refusal(requestJson({ url: NOWHERE }, "POST", "/v1/workers/api/releases", z.unknown(), {}));
    expect(refused.message).toBe(`The daemon at ${NOWHERE} is not answering.`);
  });
});
