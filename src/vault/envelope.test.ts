import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { CboError } from "../kit/errors.ts";
import { openValue, rewrapDataKey, sealValue, type Identity, type Sealed } from "./envelope.ts";
import { MasterKey } from "./master-key.ts";

const key = () => new MasterKey(randomBytes(32), "bytes");
const id: Identity = { tenant: "default", name: "API_KEY", version: 3 };
const value = Buffer.from("an envelope value 7f3a", "utf8");

const integrity = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CboError);
    expect((e as CboError).code).toBe("ERR_VAULT_INTEGRITY");
    expect((e as CboError).message).not.toContain(value.toString());
    return;
  }
  throw new Error("expected ERR_VAULT_INTEGRITY");
};

const flip = (b: Uint8Array, i: number) => {
  const c = Buffer.from(b);
  c[i % c.length]! ^= 0x01;
  return c;
};

describe("envelope", () => {
  it("round-trips, with a fresh data key and IV each time", () => {
    const mk = key();
    const a = sealValue(mk, id, value);
    const b = sealValue(mk, id, value);
    expect(openValue(mk, id, a).equals(value)).toBe(true);
    expect(Buffer.from(a.ciphertext).equals(Buffer.from(b.ciphertext))).toBe(false);
    expect(Buffer.from(a.wrappedKey).equals(Buffer.from(b.wrappedKey))).toBe(false);
    expect(a.keyId).toBe(mk.id);
    expect(Buffer.from(a.ciphertext).includes(value)).toBe(false);
  });

  it("binds the ciphertext and wrapped key to tenant, name and version", () => {
    const mk = key();
    const s = sealValue(mk, id, value);
    for (const other of [
      { ...id, tenant: "acme" },
      { ...id, name: "API_KEY2" },
      { ...id, version: 4 },
    ])
      integrity(() => openValue(mk, other, s));
  });

  it("detects any flipped bit in ciphertext, IV, tag or wrapped key, and a relabelled key id", () => {
    const mk = key();
    const s = sealValue(mk, id, value);
    const parts: Array<keyof Omit<Sealed, "keyId">> = ["ciphertext", "iv", "tag", "wrappedKey"];
    for (const part of parts) {
      for (let i = 0; i < s[part].length; i += 3) integrity(() => openValue(mk, id, { ...s, [part]: flip(s[part], i) }));
      integrity(() => openValue(mk, id, { ...s, [part]: s[part].subarray(0, s[part].length - 1) }));
    }
    integrity(() => openValue(mk, id, { ...s, keyId: "0000000000000000" }));
  });

  it("does not open under another master key, and re-wraps to a new one", () => {
    const a = key();
    const b = key();
    const s = sealValue(a, id, value);
    integrity(() => openValue(b, id, s));
    integrity(() => openValue(b, id, { ...s, keyId: b.id }));
    const rewrapped: Sealed = { ...s, wrappedKey: rewrapDataKey(a, b, id, s.wrappedKey, s.keyId), keyId: b.id };
    expect(openValue(b, id, rewrapped).equals(value)).toBe(true);
    integrity(() => openValue(a, id, { ...rewrapped, keyId: a.id }));
  });
});
