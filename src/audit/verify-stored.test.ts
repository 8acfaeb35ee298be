// verifyStoredLog on a real SQLite file, with the parallel pass forced on (the main thread and two
// workers, batches of 256 so that batch edges, checkpoints and tampered entries fall in different
// places). Its answer must be the sequential verifier's in every case; the parallel pass must prove
// the intact log (path "parallel") and give up on every tampered one (path "sequential").
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDb } from "../store/db.ts";
import { checkpointBody, toHex } from "./checkpoint-body.ts";
import { entryHash } from "./hash.ts";
import { auditSource, createAuditLog } from "./log.ts";
import type { AuditCheckpoint, AuditEntry, AuditSigner, VerifyCheckpoint } from "./schema.ts";
import { generateEd25519Signer } from "./signer.ts";
import { parallelPass, takeSnapshot } from "./verify-parallel.ts";
import { verifyStoredLog } from "./verify-stored.ts";
import { verifyAuditLog } from "./verify.ts";
import { silentLogger } from "../telemetry/index.ts";

const ENTRIES = 3037; // checkpoints every 500 up to 3000; the last 37 are protected by the chain only
const PARALLEL = { from: 0, batch: 256, threads: 3 };

let dir: string;
let file: string;
let signer: AuditSigner;
let evil: DatabaseSync;
let stored: AuditCheckpoint[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "cbo-audit-parallel-"));
  file = join(dir, "orchestrator.sqlite");
  signer = await generateEd25519Signer();
  const db = openDb(file);
  const log = createAuditLog({ db, signer, log: silentLogger, checkpointEvery: { entries: Number.MAX_SAFE_INTEGER, ms: 3_600_000 } });
  for (let i = 1; i <= ENTRIES; i++) {
    // A few fields that need escaping or are not ASCII, so that both ways of writing a body are used.
    const actor = i === 700 ? 'token:"quoted"\\name' : `token:ci#tk_${i % 7}`;
    const target = i % 11 === 0 ? null : i === 701 ? "secret:日本😀\n" : `secret:S${i}`;
    log.append({
      actor,
      action: i % 2 ? "secret.put" : "release.create",
      target,
      ...(i % 5 ? {} : { tenant: "acme" }),
      outcome: "ok",
      details: { i, tags: ["eu", i % 3] },
    });
    if (i % 500 === 0) await log.checkpoint();
  }
  stored = log.checkpoints();
  await log.stop({ checkpoint: false });
  db.close();
  evil = new DatabaseSync(file);
  evil.exec(
    "DROP TRIGGER audit_entries_no_update; DROP TRIGGER audit_entries_no_delete; DROP TRIGGER audit_checkpoints_no_update; DROP TRIGGER audit_checkpoints_no_delete;",
  );
}, 60_000);

afterAll(() => {
  evil?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** verifyStoredLog (parallel allowed), then the sequential verifier in the snapshot it ended in. */
async function verifyBoth(external: VerifyCheckpoint[] = [], meanwhile?: () => void) {
  const db = new DatabaseSync(file, { readOnly: true });
  db.exec("BEGIN");
  try {
    const readStored = () => auditSource(db).checkpoints();
    const pending = verifyStoredLog(db, { stored: readStored(), readStored, external, publicKey: signer.publicKey, parallel: PARALLEL });
    meanwhile?.();
    const viaStored = await pending;
    const checkpoints = [...viaStored.stored, ...external];
    const sequential = await verifyAuditLog({ entries: auditSource(db).entries(), checkpoints, publicKey: signer.publicKey });
    return { ...viaStored, sequential };
  } finally {
    db.exec("ROLLBACK");
    db.close();
  }
}

/** Runs `change` on the attacker's connection, verifies, and undoes it by restoring the tables. */
async function tampered(change: () => void, external: VerifyCheckpoint[] = []) {
  evil.exec("CREATE TEMP TABLE e AS SELECT * FROM audit_entries; CREATE TEMP TABLE c AS SELECT * FROM audit_checkpoints;");
  try {
    change();
    return await verifyBoth(external);
  } finally {
    evil.exec(
      "DELETE FROM audit_entries; INSERT INTO audit_entries SELECT * FROM temp.e; DELETE FROM audit_checkpoints; INSERT INTO audit_checkpoints SELECT * FROM temp.c; DROP TABLE temp.e; DROP TABLE temp.c;",
    );
  }
}

const flip = (s: string) => s.slice(0, -1) + (s.endsWith("0") ? "1" : "0");
const set = (seq: number, column: string, value: unknown) => () =>
  void evil.prepare(`UPDATE audit_entries SET ${column} = ? WHERE seq = ?`).run(value as string, seq);
const get = (seq: number, column: string) =>
  (evil.prepare(`SELECT ${column} AS v FROM audit_entries WHERE seq = ?`).get(seq) as { v: string }).v;

/** Rewrites entry `from` and every later hash and link: a chain-consistent forgery. */
const rechain = (from: number) => () => {
  type Row = Omit<AuditEntry, "details"> & { details: string };
  const rows = evil.prepare("SELECT * FROM audit_entries WHERE seq >= ? ORDER BY seq").all(from - 1) as Row[];
  let prev = rows[0]!.hash;
  for (const r of rows.slice(1)) {
    const { hash: _old, ...fields } = { ...r, details: r.seq === from ? { forged: true } : JSON.parse(r.details), prev_hash: prev };
    const hash = entryHash(fields);
    evil
      .prepare("UPDATE audit_entries SET details = ?, prev_hash = ?, hash = ? WHERE seq = ?")
      .run(JSON.stringify(fields.details), prev, hash, r.seq);
    prev = hash;
  }
};

async function signed(fields: Omit<AuditCheckpoint, "signature" | "key_id">): Promise<AuditCheckpoint> {
  const body = { ...fields, key_id: signer.keyId };
  return { ...body, signature: toHex(await signer.sign(checkpointBody(body))) };
}

describe("verifyStoredLog with the parallel pass", () => {
  it("proves the intact log in parallel, with the sequential verifier's answer, stored and external checkpoints alike", async () => {
    const r = await verifyBoth(stored);
    expect(r.path).toBe("parallel");
    expect(r.result).toEqual(r.sequential);
    expect(r.result).toMatchObject({ ok: true, checked: ENTRIES, checkpoints: 12 });
  });

  it("gives way to the sequential verifier on every kind of tampering, which names the fault", async () => {
    const cases: Record<string, () => void> = {
      "action of the first entry": set(1, "action", "secret.read"),
      "actor at a batch's end": set(256, "actor", "token:evil"),
      "timestamp at a batch's start": set(257, "at", "2020-01-01T00:00:00.000Z"),
      "target inside a checkpoint range": set(1500, "target", "secret:OTHER"),
      "details after the last checkpoint": set(ENTRIES, "details", '{"i":0}'),
      outcome: set(900, "outcome", "denied"),
      "a field that needs escaping": set(700, "actor", 'token:"other"'),
      prev_hash: () => set(512, "prev_hash", flip(get(512, "prev_hash")))(),
      "stored hash": () => set(3000, "hash", flip(get(3000, "hash")))(),
      "a text column holding a blob": () => evil.prepare("UPDATE audit_entries SET actor = CAST(actor AS BLOB) WHERE seq = 42").run(),
      "a deleted entry": () => evil.prepare("DELETE FROM audit_entries WHERE seq = 2000").run(),
      "a row planted before entry 1": () =>
        evil.exec(
          "INSERT INTO audit_entries SELECT 0, at, actor, action, target, tenant, outcome, details, prev_hash, hash FROM audit_entries WHERE seq = 1",
        ),
      "a row planted after the end": () =>
        evil.exec(
          `INSERT INTO audit_entries SELECT ${ENTRIES + 5}, at, actor, action, target, tenant, outcome, details, prev_hash, hash FROM audit_entries WHERE seq = 1`,
        ),
      "the tail cut before the last checkpoint": () => evil.prepare("DELETE FROM audit_entries WHERE seq > 2990").run(),
      "a rewrite with every later hash recomputed": rechain(1200),
      "a stored checkpoint's signature": () =>
        evil.prepare("UPDATE audit_checkpoints SET signature = ? WHERE tree_size = 1000").run(flip(stored[1]!.signature)),
      "a stored checkpoint's tree size": () => evil.prepare("UPDATE audit_checkpoints SET tree_size = 1001 WHERE tree_size = 1000").run(),
    };
    for (const [name, change] of Object.entries(cases)) {
      const r = await tampered(change);
      expect(r.path, name).toBe("sequential");
      expect(r.result, name).toEqual(r.sequential);
      expect(r.result.ok, name).toBe(false);
    }
  }, 60_000);

  it("gives way on bad external checkpoints: a signed wrong root, a log shorter than a signed size, an unreadable line", async () => {
    const wrongRoot = await signed({ tree_size: 1500, merkle_root: "ab".repeat(32), head_hash: stored[2]!.head_hash, at: stored[2]!.at });
    const beyond = await signed({ tree_size: ENTRIES + 100, merkle_root: "ab".repeat(32), head_hash: "cd".repeat(32), at: stored[2]!.at });
    for (const external of [[wrongRoot], [beyond], [{ unreadable: true as const, line: 3, tree_size: 10 }]]) {
      const r = await verifyBoth(external);
      expect(r.path).toBe("sequential");
      expect(r.result).toEqual(r.sequential);
      expect(r.result.ok).toBe(false);
    }
  });

  it("agrees with the sequential verifier where both accept: details re-spelt, a rewrite after the last checkpoint", async () => {
    // Equivalent JSON: the sequential verifier re-encodes it; the parallel pass leaves that to it.
    const respelt = await tampered(set(333, "details", JSON.stringify(JSON.parse(get(333, "details")), null, 1)));
    expect(respelt).toMatchObject({ path: "sequential", result: { ok: true, checked: ENTRIES } });
    expect(respelt.result).toEqual(respelt.sequential);
    // What no verifier can see without a later checkpoint (FORMAT.md): both accept it alike.
    const tail = await tampered(rechain(3010));
    expect(tail).toMatchObject({ path: "parallel", result: { ok: true, checked: ENTRIES } });
    expect(tail.result).toEqual(tail.sequential);
  });

  it("verifies the log the daemon appended to while the pass started, in the snapshot it ends in", async () => {
    const db = openDb(file);
    const log = createAuditLog({ db, signer, log: silentLogger, checkpointEvery: { entries: Number.MAX_SAFE_INTEGER, ms: 3_600_000 } });
    try {
      // Committed after the main thread's first snapshot, before the workers start theirs.
      const r = await verifyBoth([], () =>
        log.appendMany(
          Array.from({ length: 5 }, (_, i) => ({ actor: "token:ci", action: "secret.put", outcome: "ok" as const, details: { late: i } })),
        ),
      );
      expect(r).toMatchObject({ path: "parallel", result: { ok: true, checked: ENTRIES + 5 } });
      expect(r.result).toEqual(r.sequential);
    } finally {
      await log.stop({ checkpoint: false });
      db.close();
      evil.prepare("DELETE FROM audit_entries WHERE seq > ?").run(ENTRIES);
    }
  });

  it("does not let the workers check a snapshot other than the main thread's", async () => {
    // An entry rewritten after the workers began their snapshots and before the main thread
    // checks data_version: the workers still see it intact. The pass must notice, start the
    // workers' snapshots again, see the rewrite, and give up.
    const db = new DatabaseSync(file, { readOnly: true });
    const undo = get(100, "details");
    let rewrites = 0;
    db.exec("BEGIN");
    try {
      const restart = () => {
        if (rewrites++ === 0) set(100, "details", '{"i":-1}')();
        db.exec("ROLLBACK");
        db.exec("BEGIN");
        return takeSnapshot(db);
      };
      const plan = () => ({ count: ENTRIES, batch: 256, marks: [] });
      expect(await parallelPass(db, 2, takeSnapshot(db), restart, plan)).toBeUndefined();
      expect(rewrites).toBe(2);
      set(100, "details", undo)();
      db.exec("ROLLBACK");
      db.exec("BEGIN");
      expect(await parallelPass(db, 2, takeSnapshot(db), restart, plan)).toMatchObject({ count: ENTRIES });
    } finally {
      db.exec("ROLLBACK");
      db.close();
      set(100, "details", undo)();
    }
  });
});
