import { describe, expect, it } from "vitest";
import { CboError } from "../kit/errors.ts";
import { guardDetails, guardText, MAX_DETAILS_BYTES } from "./details-guard.ts";
import type { Details } from "./schema.ts";
import { keyedHash } from "./value-hash.ts";

const PLANTED = "s3cr3t-planted-value-9f8e7d";

function rejection(fn: () => void): CboError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CboError);
    return e as CboError;
  }
  throw new Error("expected a rejection");
}

describe("details guard", () => {
  it("accepts names, versions, ids and keyed hashes", () => {
    const valueHash = keyedHash(new Uint8Array(32).fill(7), PLANTED);
    expect(valueHash).toMatch(/^[0-9a-f]{64}$/);
    expect(() =>
      guardDetails({
        secretName: "DB_URL",
        secret_version: 3,
        valueHash,
        tokenId: "t1",
        token_name: "ci",
        keyId: "ed25519:ab",
        previous: { value_hash: valueHash },
        mode: "relay",
      }),
    ).not.toThrow();
  });

  it.each([
    [{ value: PLANTED }, "details.value"],
    [{ password: PLANTED }, "details.password"],
    [{ nested: { deeper: { apiKey: PLANTED } } }, "details.nested.deeper.apiKey"],
    [{ list: [{ ok: 1 }, { secret: PLANTED }] }, "details.list[1].secret"],
    [{ Authorization: `Bearer ${PLANTED}` }, "details.Authorization"],
    [{ valueHash: PLANTED }, "details.valueHash"],
    [{ tokenHash: 12345 }, "details.tokenHash"],
    [{ "master-key": PLANTED }, "details.master-key"],
  ])("rejects %j at its path without echoing the value", (details, path) => {
    const err = rejection(() => guardDetails(details as Details));
    expect(err.code).toBe("ERR_VALIDATION");
    expect(err.details).toEqual({ path });
    expect(JSON.stringify(err.toJSON()) + err.message).not.toContain(PLANTED);
  });

  it("rejects our API tokens and PEM private keys wherever they appear", () => {
    const token = "cbo_admin_" + "A".repeat(32);
    expect(rejection(() => guardDetails({ note: `pasted ${token}` })).details).toEqual({ path: "details.note" });
    expect(rejection(() => guardDetails({ x: ["-----BEGIN PRIVATE KEY-----\nMC4C"] })).details).toEqual({ path: "details.x[0]" });
    expect(rejection(() => guardText(token, "target")).message).not.toContain(token);
  });

  it("caps the size of details", () => {
    expect(() => guardDetails({ note: "x".repeat(MAX_DETAILS_BYTES) })).toThrow(/larger than/);
  });
});
