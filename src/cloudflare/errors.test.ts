import { describe, expect, it } from "vitest";
import { CboError } from "../kit/errors.ts";
import { cloudflareApiError, cloudflareErrorsOf, codeForStatus } from "./errors.ts";

const where = { method: "PUT", path: "/accounts/a/workers/scripts/w/secrets" };

describe("Cloudflare error mapping", () => {
  it("maps status to our code: 429 rate limited, 5xx unavailable, other 4xx request", () => {
    expect(codeForStatus(429)).toBe("ERR_CF_RATE_LIMITED");
    expect(codeForStatus(500)).toBe("ERR_CF_UNAVAILABLE");
    expect(codeForStatus(503)).toBe("ERR_CF_UNAVAILABLE");
    expect(codeForStatus(400)).toBe("ERR_CF_REQUEST");
    expect(codeForStatus(404)).toBe("ERR_CF_REQUEST");
    expect(codeForStatus(409)).toBe("ERR_CF_REQUEST");
  });

  it("names the first Cloudflare error and keeps all of them in details", () => {
    const err = cloudflareApiError({
      ...where,
      status: 400,
      attempts: 1,
      errors: [
        { code: 10215, message: "latest version isn't currently deployed" },
        { code: 10000, message: "other" },
      ],
    });
    expect(err).toBeInstanceOf(CboError);
    expect(err.code).toBe("ERR_CF_REQUEST");
    expect(err.message).toMatch(/^Cloudflare API error 10215: latest version isn't currently deployed/);
    expect(err.details).toEqual({
      status: 400,
      method: "PUT",
      path: where.path,
      attempts: 1,
      cloudflareErrors: [
        { code: 10215, message: "latest version isn't currently deployed" },
        { code: 10000, message: "other" },
      ],
    });
    expect(err.hint).toMatch(/deploy/);
  });

  it("an API that is down says what to do meanwhile", () => {
    const err = cloudflareApiError({ ...where, status: 503, errors: [{ code: 10503, message: "Region us is unavailable" }] });
    expect(err.code).toBe("ERR_CF_UNAVAILABLE");
    expect(err.hint).toBe(
      "Cloudflare's API (on the local edge: that region) did not serve it, retries included; try again once it answers (`cbo status` shows which targets do).",
    );
    // A 4xx without a known code has no hint: its message is Cloudflare's own.
    expect(cloudflareApiError({ ...where, status: 400, errors: [{ code: 1, message: "bad" }] }).hint).toBeUndefined();
  });

  it("reads odd envelopes leniently", () => {
    expect(cloudflareErrorsOf({ errors: [{ code: "971", message: "slow down" }, { message: "no code" }, "junk"] })).toEqual([
      { code: 971, message: "slow down" },
      { code: 0, message: "no code" },
    ]);
    expect(cloudflareErrorsOf("<html>")).toEqual([]);
    expect(cloudflareErrorsOf(null)).toEqual([]);
  });
});
