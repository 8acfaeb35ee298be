// Tampering with a real SQLite file, the way someone with the file would: drop the append-only
// triggers from another connection and edit rows. The verifier (over the database, and over
// checkpoints kept elsewhere) must detect each change and name the first bad entry.
import type { webcrypto } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, describe, expect, it } from "vitest";
import {
  auditSource,
  createAuditLog,
  createEd25519Signer,
  entryHash,
  parseAuditExport,
  verifyAuditLog,
  type AuditEntry,
} from "../src/audit/index.ts";
import { createStore, type Store } from "../src/store/index.ts";
import { silentLogger } from "../src/telemetry/index.ts";

const open: Array<{ close(): void; isOpen?: boolean }> = [];
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

async function newSigner(keyId?: string) {
  const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as unknown as webcrypto.CryptoKeyPair;
  return createEd25519Signer(pair, keyId);
}

/** 30 entries with signed checkpoints at 10 and 20; entries 21..30 are after the last checkpoint. */
async function build() {
  const file = join(mkdtempSync(join(tmpdir(), "cbo-audit-tamper-")), "orchestrator.sqlite");
  const store: Store = createStore(file);
  open.push(store);
  const signer = await newSigner();
  const audit = createAuditLog({ db: store.db, signer, log: silentLogger });
  for (let i = 1; i <= 30; i++) {
    audit.append({
      actor: i % 2 ? "admin" : "token:ci",
      action: i % 3 ? "config.publish" : "secret.read",
      target: `worker:w${i}`,
      outcome: "ok",
      details: { i },
    });
    if (i === 10 || i === 20) await audit.checkpoint();
  }
  // The attacker's connection: no triggers, no keys.
  const evil = new DatabaseSync(file);
  open.push(evil);
  evil.exec(
    "DROP TRIGGER audit_entries_no_update; DROP TRIGGER audit_entries_no_delete; DROP TRIGGER audit_checkpoints_no_update; DROP TRIGGER audit_checkpoints_no_delete;",
  );
  const verify = (o: { publicKey?: Uint8Array; storedCheckpoints?: boolean } = {}) => audit.verify(o);
  return { store, signer, audit, evil, verify };
}

type Row = Omit<AuditEntry, "details"> & { details: string };
const rows = (db: DatabaseSync) => db.prepare("SELECT * FROM audit_entries ORDER BY seq").all() as Row[];

/** Rewrites entries from `from` on so that every hash and link recomputes: a chain-consistent forgery. */
function rechain(db: DatabaseSync, from: number) {
  const all = rows(db);
  let prev = all[from - 2]!.hash;
  for (const r of all.slice(from - 1)) {
    const fields = { ...r, details: JSON.parse(r.details), prev_hash: prev };
    const { hash: _old, ...rest } = fields;
    const hash = entryHash(rest);
    db.prepare("UPDATE audit_entries SET prev_hash = ?, hash = ? WHERE seq = ?").run(prev, hash, r.seq);
    prev = hash;
  }
}

describe("audit tampering in SQLite", () => {
  it("an intact log verifies", async () => {
    const { verify } = await build();
    expect(await verify()).toMatchObject({ ok: true, checked: 30, checkpoints: 2 });
  });

  it("an edited action text: hash mismatch at that entry", async () => {
    const { evil, verify } = await build();
    evil.prepare("UPDATE audit_entries SET action = 'config.read' WHERE seq = 7").run();
    expect((await verify()).firstBad).toMatchObject({ seq: 7, reason: "hash mismatch" });
  });

  it("an edited entry after the last checkpoint is caught by the chain alone", async () => {
    const { evil, verify } = await build();
    evil.prepare("UPDATE audit_entries SET details = '{\"i\":999}' WHERE seq = 27").run();
    expect(await verify()).toMatchObject({ ok: false, checked: 26, firstBad: { seq: 27, reason: "hash mismatch" } });
  });

  it("a deleted entry: missing entry at its seq", async () => {
    const { evil, verify } = await build();
    evil.prepare("DELETE FROM audit_entries WHERE seq = 12").run();
    expect((await verify()).firstBad).toMatchObject({ seq: 12, reason: "missing entry" });
  });

  it("two rows swapped: named at the first of them", async () => {
    const { evil, verify } = await build();
    const [a, b] = [rows(evil)[4]!, rows(evil)[7]!]; // seq 5 and 8
    const put = evil.prepare(
      "UPDATE audit_entries SET at = ?, actor = ?, action = ?, target = ?, tenant = ?, outcome = ?, details = ?, prev_hash = ?, hash = ? WHERE seq = ?",
    );
    for (const [row, seq] of [
      [b, 5],
      [a, 8],
    ] as const)
      put.run(row.at, row.actor, row.action, row.target, row.tenant, row.outcome, row.details, row.prev_hash, row.hash, seq);
    expect((await verify()).firstBad).toMatchObject({ seq: 5, reason: "broken link" });
  });

  it("an entry renumbered into another place: missing entry where it was", async () => {
    const { evil, verify } = await build();
    evil.prepare("UPDATE audit_entries SET seq = 100 WHERE seq = 3").run();
    expect((await verify()).firstBad).toMatchObject({ seq: 3, reason: "missing entry" });
  });

  it("an edit with that entry's own hash recomputed: the broken link names the edited entry", async () => {
    const { evil, verify } = await build();
    const r = rows(evil)[13]!; // seq 14
    const fields = { ...r, action: "config.read", details: JSON.parse(r.details) };
    const { hash: _h, ...rest } = fields;
    evil.prepare("UPDATE audit_entries SET action = 'config.read', hash = ? WHERE seq = 14").run(entryHash(rest));
    expect((await verify()).firstBad).toMatchObject({ seq: 14, reason: "broken link" });
  });

  it("history rewritten with every later hash recomputed: only the signed Merkle root catches it", async () => {
    const { evil, verify } = await build();
    evil.prepare("UPDATE audit_entries SET actor = 'nobody' WHERE seq = 15").run();
    rechain(evil, 15);
    // The chain alone is consistent again: that is exactly why checkpoints are signed.
    expect(await verify({ storedCheckpoints: false })).toMatchObject({ ok: true, checked: 30 });
    const res = await verify();
    expect(res.firstBad).toMatchObject({ reason: "checkpoint root mismatch", checkpoint: 20, seq: 11, range: [11, 20] });
    expect(res.checkpoints).toBe(1); // the checkpoint at 10 still holds
    expect(res.firstBad!.range![0] <= 15 && 15 <= res.firstBad!.range![1]).toBe(true);
  });

  it("the tail cut below the last checkpoint: truncated after checkpoint", async () => {
    const { evil, verify } = await build();
    evil.prepare("DELETE FROM audit_entries WHERE seq >= 18").run();
    expect((await verify()).firstBad).toMatchObject({ seq: 18, reason: "truncated after checkpoint", checkpoint: 20, range: [18, 20] });
  });

  it("the tail cut after the last checkpoint is not detectable from the file alone (what frequent checkpoints bound)", async () => {
    const { evil, verify } = await build();
    evil.prepare("DELETE FROM audit_entries WHERE seq >= 25").run();
    expect(await verify()).toMatchObject({ ok: true, checked: 24 });
  });

  it("a checkpoint row edited, or a verifier holding a different key: bad checkpoint signature", async () => {
    const a = await build();
    a.evil.prepare("UPDATE audit_checkpoints SET at = '2020-01-01T00:00:00.000Z' WHERE tree_size = 10").run();
    expect((await a.verify()).firstBad).toMatchObject({ seq: 10, reason: "bad checkpoint signature", checkpoint: 10 });

    const b = await build();
    const stranger = await newSigner(b.signer.keyId);
    expect((await b.verify({ publicKey: stranger.publicKey })).firstBad).toMatchObject({ seq: 10, reason: "bad checkpoint signature" });
  });

  it("a rewrite covered by checkpoints the attacker signed with their own key is rejected", async () => {
    const { store, evil, signer } = await build();
    evil.prepare("UPDATE audit_entries SET outcome = 'denied' WHERE seq = 4").run();
    rechain(evil, 4);
    evil.exec("DELETE FROM audit_checkpoints");
    const forger = createAuditLog({ db: store.db, signer: await newSigner(signer.keyId), log: silentLogger });
    await forger.checkpoint();
    const src = auditSource(store.db);
    const res = await verifyAuditLog({ entries: src.entries(), checkpoints: src.checkpoints(), publicKey: signer.publicKey });
    expect(res.firstBad).toMatchObject({ seq: 30, reason: "bad checkpoint signature" });
  });

  it("checkpoints exported before the attack still catch a rewrite after the attacker drops them from the database", async () => {
    const { audit, evil, verify } = await build();
    const external = parseAuditExport(audit.exportCheckpoints()).checkpoints;
    expect(external).toHaveLength(2);
    evil.prepare("UPDATE audit_entries SET target = 'worker:other' WHERE seq = 6").run();
    rechain(evil, 6);
    evil.prepare("DELETE FROM audit_entries WHERE seq > 15").run();
    evil.exec("DELETE FROM audit_checkpoints");
    expect((await verify()).ok).toBe(true); // nothing left on the VPS to contradict it
    const res = await audit.verify({ checkpoints: external });
    expect(res.firstBad).toMatchObject({ seq: 1, reason: "checkpoint root mismatch", checkpoint: 10, range: [1, 10] });
  });
});
