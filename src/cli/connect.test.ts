import { describe, expect, it } from "vitest";
// The CLI's words on the one daemon client's error mapping (src/client/request.ts).
import { cliErrorFromResponse as errorFromResponse } from "./connect.ts";

describe("daemon errors become CboErrors with the daemon's code", () => {
  it("keeps the code, message and details the daemon sent", () => {
    const e = errorFromResponse(
      404,
      JSON.stringify({ error: { code: "ERR_NOT_FOUND", message: 'No worker "nope".', details: { worker: "nope" } } }),
    );
    expect([e.code, e.message, e.details, e.isUserError]).toEqual(["ERR_NOT_FOUND", 'No worker "nope".', { worker: "nope" }, true]);
  });
  it("adds a hint for a missing or refused token, never the token", () => {
    const e = errorFromResponse(401, JSON.stringify({ error: { code: "ERR_UNAUTHORIZED", message: "Bad token." } }));
    expect(e.code).toBe("ERR_UNAUTHORIZED");
    expect(e.hint).toMatch(/--token-file FILE, CBO_TOKEN_FILE or CBO_TOKEN/);
  });
  it("falls back on the HTTP status when the body is not an error body", () => {
    expect(errorFromResponse(403, "<html>").code).toBe("ERR_FORBIDDEN");
    expect(errorFromResponse(422, "").code).toBe("ERR_VALIDATION");
    expect(errorFromResponse(502, "").code).toBe("ERR_INTERNAL");
    expect(errorFromResponse(500, JSON.stringify({ error: { code: "ERR_MADE_UP", message: "m" } })).code).toBe("ERR_INTERNAL");
    expect(
      errorFromResponse(503, JSON.stringify({ error: { code: "ERR_CF_UNAVAILABLE", message: "Cloudflare is down." } })).isUserError,
    ).toBe(false);
  });
});
