import Cloudflare from "cloudflare";
import { beforeAll, describe, expect, it } from "vitest";
import { CboError } from "../kit/errors.ts";
import { cloudflareApiError, cloudflareErrorsOf, codeForStatus, fromSdkError } from "./errors.ts";
import { loadSdk } from "./sdk.ts";

const where = { method: "PUT", path: "/accounts/a/workers/scripts/w/secrets" };

describe("Cloudflare error mapping", () => {
  // The client loads the SDK on its first SDK call; an SDK error in hand implies it is loaded.
  beforeAll(async () => {
    await loadSdk();
  });
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

  it("reads odd envelopes leniently", () => {
    expect(cloudflareErrorsOf({ errors: [{ code: "971", message: "slow down" }, { message: "no code" }, "junk"] })).toEqual([
      { code: 971, message: "slow down" },
      { code: 0, message: "no code" },
    ]);
    expect(cloudflareErrorsOf("<html>")).toEqual([]);
    expect(cloudflareErrorsOf(null)).toEqual([]);
  });

  it("maps an SDK APIError the same way", () => {
    const body = { success: false, errors: [{ code: 971, message: "Please wait and consider throttling your request speed" }] };
    const sdkError = Cloudflare.APIError.generate(429, body, undefined, new Headers());
    const err = fromSdkError(sdkError, { method: "GET", path: "/accounts" });
    expect(err.code).toBe("ERR_CF_RATE_LIMITED");
    expect(err.details).toMatchObject({ status: 429, method: "GET", path: "/accounts", cloudflareErrors: [{ code: 971 }] });
    const notFound = fromSdkError(Cloudflare.APIError.generate(404, { errors: [{ code: 10007, message: "nope" }] }, undefined, new Headers()), where);
    expect(notFound.code).toBe("ERR_CF_REQUEST");
    expect(notFound.message).toMatch(/^Cloudflare API error 10007: nope/);
    expect(fromSdkError(Cloudflare.APIError.generate(502, undefined, "bad gateway", new Headers()), where).code).toBe("ERR_CF_UNAVAILABLE");
  });

  it("unwraps our own errors that the SDK wrapped as connection errors", () => {
    const ours = new CboError("ERR_CF_BUDGET", "budget exhausted");
    const wrapped = new Cloudflare.APIConnectionError({ cause: ours });
    expect(fromSdkError(wrapped, where)).toBe(ours);
    const plain = fromSdkError(new Cloudflare.APIConnectionError({ cause: new Error("ECONNRESET") }), where);
    expect(plain.code).toBe("ERR_CF_UNAVAILABLE");
  });
});
