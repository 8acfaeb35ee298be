import { describe, expect, it } from "vitest";
import * as z from "zod";
import { refusal } from "../../test/support/refusal.ts";
import { requestJson } from "./request.ts";

// Port 9 (discard): nothing answers there, so a request that is sent fails as "not answering".
const NOWHERE = "http://127.0.0.1:9";

describe("a token that cannot go in a header", () => {
  it("is refused as ERR_VALIDATION before sending, not reported as a daemon that is not answering", async () => {
    for (const token of ["cbo_admin_abc\ndef", "cbo_admin_abc def", "cbo_admin_\u00e9t\u00e9", "\u0000"]) {
      const e = await refusal(requestJson({ url: NOWHERE, token }, "GET", "/v1/health", z.unknown()));
      expect([JSON.stringify(token), e.code]).toEqual([JSON.stringify(token), "ERR_VALIDATION"]);
      expect(e.message).not.toContain("abc");
    }
    // One of visible ASCII is sent (and here finds no daemon).
    expect((await refusal(requestJson({ url: NOWHERE, token: "cbo_admin_abc" }, "GET", "/v1/health", z.unknown()))).code).toBe("ERR_IO");
  });
});

describe("a mutation whose connection breaks after it was sent", () => {
  // A server that reads each request and then drops the connection without answering: what a
  // client sees when the daemon is killed (or restarts) while it handles the request.
  async function dropper(): Promise<{ url: string; seen: string[]; close: () => Promise<void> }> {
    const { createServer } = await import("node:http");
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
