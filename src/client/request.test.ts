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
