import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { CboError } from "../kit/errors.ts";
import { MasterKey } from "../vault/index.ts";
import {
  CHECK_BYTES,
  decodeHeader,
  encodePrefix,
  FORMAT,
  FORMAT_VERSION,
  headerLength,
  MAGIC,
  PLAIN_LEAD,
  TAG_BYTES,
  type Header,
} from "./format.ts";
import { newArchiveKeys, openArchiveKeys } from "./keys.ts";

const header = (over: Partial<Header> = {}): Header => ({
  format: FORMAT,
  v: FORMAT_VERSION,
  created_at: "2026-01-01T00:00:00.000Z",
  master_key_id: "0123456789abcdef",
  wrapped_key: randomBytes(60).toString("base64"),
  salt: randomBytes(32).toString("base64"),
  iv: randomBytes(12).toString("base64"),
  files: [{ name: "orchestrator.sqlite", bytes: 4096 }],
  plaintext_sha256: "a".repeat(64),
  ...over,
});

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return (e as CboError).code + ": " + (e as CboError).message;
  }
  return "no error";
};

describe("archive header", () => {
  it("round-trips, and the check tells a damaged header from anything else", () => {
    const h = header();
    const { prefix, aad } = encodePrefix(h);
    expect(prefix.subarray(0, 8).equals(MAGIC)).toBe(true);
    const len = headerLength(prefix, prefix.length + 4096 + TAG_BYTES);
    expect(len).toBe(aad.length - PLAIN_LEAD);
    expect(decodeHeader(aad, prefix.subarray(aad.length, aad.length + CHECK_BYTES))).toEqual(h);
    const damaged = Buffer.from(aad);
    damaged[PLAIN_LEAD + 5]! ^= 1;
    expect(code(() => decodeHeader(damaged, prefix.subarray(aad.length)))).toMatch(/^ERR_VAULT_INTEGRITY: .*damaged header \(its checksum/);
  });

  it("refuses other files, impossible lengths and other versions", () => {
    expect(code(() => headerLength(Buffer.from("SQLite format 3\0"), 1 << 20))).toMatch(/wrong magic/);
    const { prefix } = encodePrefix(header());
    expect(code(() => headerLength(prefix, prefix.length))).toMatch(/cut short/);
    const v2 = Buffer.from(JSON.stringify({ ...header(), v: 2 }));
    const aad = Buffer.concat([MAGIC, Buffer.from([0, 0, 0, v2.length]), v2]);
    expect(code(() => decodeHeader(aad, createHash("sha256").update(aad).digest()))).toMatch(/format v2; this cbo reads v1/);
  });
});

describe("archive keys", () => {
  it("open only under the master key that sealed them, and never as the same key twice", () => {
    const master = new MasterKey(randomBytes(32), "bytes");
    const a = newArchiveKeys(master);
    const b = newArchiveKeys(master);
    expect(a.contentKey.equals(b.contentKey)).toBe(false);
    const h = { master_key_id: master.id, wrapped_key: a.wrappedKey, salt: a.salt.toString("base64") };
    expect(openArchiveKeys(master, h).equals(a.contentKey)).toBe(true);
    const other = new MasterKey(randomBytes(32), "bytes");
    expect(code(() => openArchiveKeys(other, h))).toMatch(
      new RegExp(`ERR_VAULT_INTEGRITY: .*sealed with master key ${master.id}, not with this one \\(${other.id}\\)`),
    );
    // Same id claimed, wrong wrap: the unwrap itself refuses.
    expect(code(() => openArchiveKeys(master, { ...h, wrapped_key: b.wrappedKey.replace(/^./, (c) => (c === "A" ? "B" : "A")) }))).toMatch(
      /does not authenticate/,
    );
  });
});
