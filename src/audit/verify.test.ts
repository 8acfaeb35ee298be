// The verifier on entries built in memory (no database): ordering faults in an input list, key
// rotation, unreadable lines. Tampering in a real SQLite file is in test/audit-tamper.test.ts.
import { describe, expect, it } from "vitest";
import { checkpointBody, toHex } from "./checkpoint-body.ts";
import { entryHash } from "./hash.ts";
import { merkleRoot } from "./merkle.ts";
import { GENESIS_HASH, type AuditCheckpoint, type AuditEntry, type AuditSigner } from "./schema.ts";
import { generateEd25519Signer } from "./signer.ts";
import { verifyAuditLog } from "./verify.ts";

function chain(n: number): AuditEntry[] {
  const out: AuditEntry[] = [];
  for (let seq = 1; seq <= n; seq++) {
    const fields = {
      seq,
      at: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
      actor: "admin",
      action: "config.publish",
      target: `worker:w${seq}`,
      tenant: null,
      outcome: "ok" as const,
      details: { n: seq },
      prev_hash: out.at(-1)?.hash ?? GENESIS_HASH,
    };
    out.push({ ...fields, hash: entryHash(fields) });
  }
  return out;
}

async function sign(signer: AuditSigner, entries: AuditEntry[], size: number): Promise<AuditCheckpoint> {
  const fields = {
    tree_size: size,
    merkle_root: merkleRoot(entries.slice(0, size).map((e) => e.hash)),
    head_hash: entries[size - 1]?.hash ?? GENESIS_HASH,
    key_id: signer.keyId,
    at: "2026-01-01T01:00:00.000Z",
  };
  return { ...fields, signature: toHex(await signer.sign(checkpointBody(fields))) };
}

describe("verifyAuditLog (in memory)", () => {
  it("accepts an intact chain and its checkpoints, one object or a list", async () => {
    const signer = await generateEd25519Signer();
    const entries = chain(12);
    const cps = [await sign(signer, entries, 0), await sign(signer, entries, 5), await sign(signer, entries, 12)];
    expect(await verifyAuditLog({ entries, checkpoints: cps, publicKey: signer.publicKey })).toEqual({
      ok: true,
      checked: 12,
      checkpoints: 3,
      head: { seq: 12, hash: entries[11]!.hash },
    });
    expect((await verifyAuditLog({ entries, checkpoints: cps[2]!, publicKey: signer.publicKey })).ok).toBe(true);
  });

  it("names the first displaced entry when lines are swapped, duplicated or missing", async () => {
    const { publicKey } = await generateEd25519Signer();
    const e = chain(6);
    const swapped = [e[0]!, e[1]!, e[3]!, e[2]!, e[4]!, e[5]!];
    expect((await verifyAuditLog({ entries: swapped, publicKey })).firstBad).toMatchObject({ seq: 3, reason: "missing entry" });
    const duplicated = [e[0]!, e[1]!, e[1]!, e[2]!];
    expect((await verifyAuditLog({ entries: duplicated, publicKey })).firstBad).toMatchObject({ seq: 3, reason: "missing entry" });
    const unreadable = [e[0]!, { unreadable: true as const, line: 2 }, e[2]!];
    expect((await verifyAuditLog({ entries: unreadable, publicKey })).firstBad).toMatchObject({ seq: 2, reason: "hash mismatch" });
  });

  it("verifies across a key rotation with one public key per key_id, and rejects an unknown key_id", async () => {
    const oldKey = await generateEd25519Signer("k1");
    const newKey = await generateEd25519Signer("k2");
    const entries = chain(8);
    const cps = [await sign(oldKey, entries, 4), await sign(newKey, entries, 8)];
    const both = { k1: oldKey.publicKey, k2: newKey.publicKey };
    expect((await verifyAuditLog({ entries, checkpoints: cps, publicKey: both })).ok).toBe(true);
    const onlyNew = await verifyAuditLog({ entries, checkpoints: cps, publicKey: { k2: newKey.publicKey } });
    expect(onlyNew.firstBad).toMatchObject({ seq: 4, reason: "bad checkpoint signature", checkpoint: 4 });
  });

  it("reports an unreadable checkpoint, and a forged one beyond the end", async () => {
    const signer = await generateEd25519Signer();
    const entries = chain(3);
    const cp = await sign(signer, entries, 3);
    const unreadable = await verifyAuditLog({
      entries,
      checkpoints: [{ unreadable: true, line: 5, tree_size: 2 }],
      publicKey: signer.publicKey,
    });
    expect(unreadable.firstBad).toMatchObject({ seq: 2, reason: "bad checkpoint signature" });
    const forged = { ...cp, tree_size: 9 };
    expect((await verifyAuditLog({ entries, checkpoints: [cp, forged], publicKey: signer.publicKey })).firstBad).toMatchObject({
      seq: 9,
      reason: "bad checkpoint signature",
    });
  });

  it("does not accept a checkpoint signature made for another purpose with the same key", async () => {
    const signer = await generateEd25519Signer();
    const entries = chain(2);
    const cp = await sign(signer, entries, 2);
    // Same fields, but signed as plain JSON without the checkpoint kind: a signature from another domain.
    const foreign = toHex(await signer.sign(new TextEncoder().encode(JSON.stringify({ ...cp, signature: undefined }))));
    const res = await verifyAuditLog({ entries, checkpoints: { ...cp, signature: foreign }, publicKey: signer.publicKey });
    expect(res.firstBad).toMatchObject({ seq: 2, reason: "bad checkpoint signature" });
  });
});
