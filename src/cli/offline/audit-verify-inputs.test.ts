import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { canonicalJson, generateEd25519Signer, keyIdFor } from "../../audit/index.ts";
import { decodePublicKey, keyFromDocument, readCheckpointFile, verifierKeys } from "./audit-verify-inputs.ts";

const dir = mkdtempSync(join(tmpdir(), "cbo-verify-inputs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CP = {
  tree_size: 10,
  merkle_root: "a".repeat(64),
  head_hash: "b".repeat(64),
  key_id: "ed25519:0123456789abcdef",
  at: "2025-06-01T12:00:00.000Z",
  signature: "c".repeat(128),
};

describe("checkpoint files", () => {
  it("takes checkpoint lines, skips header and entry lines, reads key lines, keeps unreadable lines as evidence", async () => {
    const s = await generateEd25519Signer();
    const file = join(dir, "cp.jsonl");
    writeFileSync(
      file,
      [
        canonicalJson({ checkpoints: 1, entries: 1, exported_at: CP.at, format: "cbo.audit.export", kind: "header", v: 1 }),
        canonicalJson({ kind: "entry", seq: 1 }),
        canonicalJson({ ...CP, kind: "checkpoint" }),
        JSON.stringify({ kind: "key", key_id: s.keyId, public_key: Buffer.from(s.publicKey).toString("base64url") }),
        "",
        canonicalJson({ ...CP, tree_size: 20, kind: "checkpoint" }).replace('"merkle_root"', '"merkle_rooX"'),
        "{not json",
      ].join("\n") + "\n",
    );
    const got = readCheckpointFile(file);
    expect(got.checkpoints).toEqual([CP, { unreadable: true, line: 6, tree_size: 20 }, { unreadable: true, line: 7 }]);
    expect(got.unreadableLines).toEqual([6, 7]);
    expect(got.keys).toHaveLength(1);
    expect(Buffer.from(got.keys[0]!.raw).equals(Buffer.from(s.publicKey))).toBe(true);
  });
  it("a last line without its newline that cannot be read is an interrupted append (cutOffLine), not an unreadable checkpoint; with its newline it is evidence", () => {
    const whole = canonicalJson({ ...CP, kind: "checkpoint" });
    const cut = canonicalJson({ ...CP, tree_size: 20, kind: "checkpoint" }).slice(0, 70);
    const file = join(dir, "cut.jsonl");
    writeFileSync(file, `${whole}\n${cut}`);
    expect(readCheckpointFile(file)).toMatchObject({ checkpoints: [CP], unreadableLines: [], cutOffLine: 2 });
    writeFileSync(file, `${whole}\n${cut}\n`);
    const ended = readCheckpointFile(file);
    expect(ended).toMatchObject({ checkpoints: [CP, { unreadable: true, line: 2 }], unreadableLines: [2] });
    expect(ended.cutOffLine).toBeUndefined();
    // A whole checkpoint that only lacks its newline is read as one.
    writeFileSync(file, whole);
    expect(readCheckpointFile(file)).toMatchObject({ checkpoints: [CP], unreadableLines: [] });
    expect(readCheckpointFile(file).cutOffLine).toBeUndefined();
  });
});

describe("public keys", () => {
  it("base64url, base64 and hex of the 32 raw bytes, or the /v1/keys/orchestrator document", async () => {
    const s = await generateEd25519Signer();
    const raw = Buffer.from(s.publicKey);
    for (const text of [raw.toString("base64url"), raw.toString("base64"), raw.toString("hex")])
      expect(Buffer.from(decodePublicKey(text, "t").raw).equals(raw)).toBe(true);
    expect(
      Buffer.from(keyFromDocument({ keyId: "k", jwk: { kty: "OKP", crv: "Ed25519", x: raw.toString("base64url") } }, "doc").raw).equals(
        raw,
      ),
    ).toBe(true);
    expect(() => decodePublicKey("abc", "--public-key")).toThrowError(/not a raw Ed25519 public key/);
    expect(() => keyFromDocument({ nope: 1 }, "doc")).toThrowError(/not a public key document/);
  });
  it("one key is used for every checkpoint; several are told apart by the ids a checkpoint may carry", async () => {
    const [a, b] = [await generateEd25519Signer(), await generateEd25519Signer()];
    expect(await verifierKeys([{ raw: a.publicKey, source: "x" }])).toBe(a.publicKey);
    const byId = (await verifierKeys([
      { raw: a.publicKey, source: "x", keyId: "old" },
      { raw: b.publicKey, source: "y" },
    ])) as Record<string, Uint8Array>;
    expect(byId["old"]).toBe(a.publicKey);
    expect(byId[keyIdFor(a.publicKey)]).toBe(a.publicKey);
    expect(byId[keyIdFor(b.publicKey)]).toBe(b.publicKey);
    expect(Object.keys(byId)).toHaveLength(5);
  });
});
