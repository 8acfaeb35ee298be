// Acceptance (issue 4): flipping any single byte of any entry or checkpoint of a 10,000-entry log is
// detected by `cbo audit verify`, naming the right entry; the test tries every entry.
//
// The log is real: createStore + createAuditLog with a generated Ed25519 key, appended in batches of
// 1,000 with a signed checkpoint after each, checkpoints appended to <data>/audit-checkpoints.jsonl
// as the daemon does. Tampering is done the way someone with the file would: another connection,
// the append-only triggers dropped (once), a byte flipped, committed; then restored.
//
// Cost: the full verifier walks from entry 1 and stops at the first fault, so checking entry i
// costs i entries and a full run per entry would be 50 M entry checks (minutes). So:
//   (a) every entry, every flip: the verifier's own per-entry path (toVerifyEntry + the chain walker
//       of chain.ts, which verifyAuditLog runs for each entry) over the rows read from the SQLite
//       file through a read-only connection, starting at the head just before the entry: the head
//       one walk of the intact log from entry 1 reached there (that walk finds no fault, and its
//       head at each checkpoint is that checkpoint's signed head). The entries before it are
//       untouched, so walking them again for each entry (from the checkpoint below, ~500 on
//       average: 5 M entry checks, 20 s) would only repeat that walk;
//   (a') every STRIDE-th entry also through verifyDatabase, the exact function `cbo audit verify`
//       calls, from entry 1 with every checkpoint, plus the intact log once;
//   (b) every checkpoint, in the file and in the database: a flipped byte names that checkpoint;
//   (c) the real binary on a sample of flipped entries (first, last, checkpoint edges, random).
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canonicalJson, createAuditLog, generateEd25519Signer, type AuditSigner, type VerifyCheckpoint } from "../src/audit/index.ts";
import { createChainWalker } from "../src/audit/chain.ts";
import { iterateRowArrays, toVerifyEntry } from "../src/audit/entries-table.ts";
import { verifyDatabase } from "../src/cli/offline/audit-verify-db.ts";
import { readCheckpointFile } from "../src/cli/offline/audit-verify-inputs.ts";
import { createStore } from "../src/store/index.ts";
import { runCbo } from "./support/run-cbo.ts";
import { silentLogger } from "../src/telemetry/index.ts";

const ENTRIES = 10_000;
const BATCH = 1_000;
const STRIDE = 50;
const COLUMNS = ["action", "actor", "target", "details", "at", "prev_hash", "hash", "outcome"] as const;
type Column = (typeof COLUMNS)[number];
/** What the verifier reports for a flipped byte in each column of entry seq: always seq itself. */
const REASON: Record<Column, string> = {
  action: "hash mismatch",
  actor: "hash mismatch",
  target: "hash mismatch",
  details: "hash mismatch",
  at: "hash mismatch",
  // The link check comes first; the entry does not recompute either, so it names itself, not its neighbour.
  prev_hash: "broken link",
  hash: "hash mismatch",
  // "ok" -> e.g. "nk" is no outcome at all: the row is unreadable, reported as a hash mismatch at its place.
  outcome: "hash mismatch",
};

let root: string;
let dir: string;
let dbFile: string;
let cpFile: string;
let signer: AuditSigner;
let attacker: DatabaseSync;
let reader: DatabaseSync;
/** Signed head at each checkpoint: where the per-entry check of (a) starts. */
const heads = new Map<number, string>();

/** Flips one bit of one character (ASCII stays ASCII, never NUL): a single changed byte. */
function flip(value: string, i: number): string {
  const at = i % value.length;
  const code = value.charCodeAt(at);
  let mask = 1 << (i % 7);
  if ((code ^ mask) === 0) mask = 1 << ((i + 1) % 7);
  return value.slice(0, at) + String.fromCharCode(code ^ mask) + value.slice(at + 1);
}

const columnFor = (seq: number): Column => COLUMNS[seq % COLUMNS.length]!;

/** Flips a byte of `column` of entry `seq`, committed; returns the undo. */
function tamperEntry(seq: number, column: Column): () => void {
  const original = (attacker.prepare(`SELECT ${column} AS v FROM audit_entries WHERE seq = ?`).get(seq) as { v: string }).v;
  attacker.prepare(`UPDATE audit_entries SET ${column} = ? WHERE seq = ?`).run(flip(original, seq), seq);
  return () => void attacker.prepare(`UPDATE audit_entries SET ${column} = ? WHERE seq = ?`).run(original, seq);
}

/** The head after each entry of the intact log (index 0: before the first). */
const intactHeads: string[] = [];

/** One walk of the intact log from entry 1 with the verifier's walker, keeping its head after each entry. */
function walkIntact(): void {
  reader.exec("BEGIN");
  try {
    const walker = createChainWalker({ seq: 0, hash: heads.get(0)! });
    intactHeads[0] = walker.head.hash;
    let position = 0;
    for (const row of iterateRowArrays(reader, 0, ENTRIES)) {
      const fault = walker.step(toVerifyEntry(row, ++position));
      if (fault) throw new Error(`the intact log has a fault: ${JSON.stringify(fault)}`);
      intactHeads[position] = walker.head.hash;
    }
  } finally {
    reader.exec("COMMIT");
  }
}

/** The verifier's per-entry path from the intact head after entry `after` up to the first fault (or `upTo`). */
function firstFaultFrom(after: number, upTo: number) {
  reader.exec("BEGIN");
  try {
    const walker = createChainWalker({ seq: after, hash: intactHeads[after]! });
    let position = after;
    for (const row of iterateRowArrays(reader, after, upTo)) {
      const fault = walker.step(toVerifyEntry(row, ++position));
      if (fault) return fault;
    }
    return undefined;
  } finally {
    reader.exec("COMMIT");
  }
}

const externalCheckpoints = (): VerifyCheckpoint[] => readCheckpointFile(cpFile).checkpoints;
const verifyFull = async () => (await verifyDatabase({ dbFile, external: externalCheckpoints(), publicKey: signer.publicKey })).result;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "cbo-audit-10k-"));
  dir = join(root, "data");
  signer = await generateEd25519Signer();
  mkdirSync(dir);
  dbFile = join(dir, "orchestrator.sqlite");
  const store = createStore(dbFile);
  cpFile = join(dir, "audit-checkpoints.jsonl");
  writeFileSync(cpFile, "");
  const audit = createAuditLog({
    db: store.db,
    signer,
    log: silentLogger,
    // Checkpoints are taken explicitly after each batch (one per 1,000 entries, as the daemon's count rule).
    checkpointEvery: { entries: Number.MAX_SAFE_INTEGER, ms: 3_600_000 },
    onCheckpoint: (cp) => appendFileSync(cpFile, canonicalJson({ ...cp, kind: "checkpoint" }) + "\n"),
  });
  heads.set(0, "0".repeat(64));
  for (let from = 1; from <= ENTRIES; from += BATCH) {
    audit.appendMany(
      Array.from({ length: BATCH }, (_, k) => {
        const i = from + k;
        return {
          actor: i % 2 ? "token:admin#tk_01" : "token:ci#tk_02",
          action: ["secret.put", "secret.read", "release.create", "token.revoke"][i % 4]!,
          target: `secret:S${i}`,
          ...(i % 5 === 0 ? { tenant: "acme" } : {}),
          outcome: (["ok", "denied", "error"] as const)[i % 3]!,
          details: { version: i, valueHash: (i * 2654435761).toString(16).padStart(64, "0").slice(-64), tags: ["eu", i % 7] },
        };
      }),
    );
    const cp = await audit.checkpoint();
    heads.set(cp.tree_size, cp.head_hash);
  }
  await audit.stop({ checkpoint: false });
  store.close();
  writeFileSync(
    join(dir, "orchestrator-key.json"),
    JSON.stringify({ keyId: signer.keyId, publicKey: Buffer.from(signer.publicKey).toString("base64url") }),
  );
  attacker = new DatabaseSync(dbFile);
  // The tampering's 20,000 commits need not reach the disk: the verifier's reader sees each one once
  // committed (WAL), and an fsync per commit (the default FULL) was most of this file's time.
  attacker.exec("PRAGMA synchronous = OFF");
  attacker.exec(
    "DROP TRIGGER audit_entries_no_update; DROP TRIGGER audit_entries_no_delete; DROP TRIGGER audit_checkpoints_no_update; DROP TRIGGER audit_checkpoints_no_delete;",
  );
  reader = new DatabaseSync(dbFile, { readOnly: true });
}, 60_000);

afterAll(() => {
  reader?.close();
  attacker?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe("a 10,000-entry audit log with a checkpoint every 1,000 entries", () => {
  it("verifies intact through the CLI's path: every entry, 20 checkpoints (10 stored, 10 from the file)", async () => {
    const r = await verifyFull();
    expect(r).toMatchObject({ ok: true, checked: ENTRIES, checkpoints: 20, head: { seq: ENTRIES } });
    expect(externalCheckpoints()).toHaveLength(ENTRIES / BATCH);
  });

  it("(a) a flipped byte in any column of EVERY entry is named at that entry", async () => {
    walkIntact();
    expect(intactHeads).toHaveLength(ENTRIES + 1);
    for (const [size, head] of heads) expect(intactHeads[size], `the walk's head at checkpoint ${size}`).toBe(head);
    const misses: string[] = [];
    let full = 0;
    for (let seq = 1; seq <= ENTRIES; seq++) {
      const column = columnFor(seq);
      const undo = tamperEntry(seq, column);
      try {
        const fault = firstFaultFrom(seq - 1, Math.min(seq + 1, ENTRIES));
        if (fault?.seq !== seq || fault.reason !== REASON[column]) misses.push(`#${seq} ${column}: ${JSON.stringify(fault)}`);
        if (seq % STRIDE === 0 || seq === 1) {
          full++;
          const r = await verifyFull();
          if (r.ok || r.firstBad?.seq !== seq || r.firstBad.reason !== REASON[column] || r.checked !== seq - 1)
            misses.push(`full #${seq} ${column}: ${JSON.stringify(r.firstBad)}`);
        }
      } finally {
        undo();
      }
    }
    expect(misses).toEqual([]);
    expect(full).toBe(ENTRIES / STRIDE + 1);
    // Every undo restored the log exactly.
    expect(await verifyFull()).toMatchObject({ ok: true, checked: ENTRIES, checkpoints: 20 });
  }, 120_000);

  it("(b) a flipped byte in any checkpoint, in the file or in the database, is named at that checkpoint", async () => {
    const text = readFileSync(cpFile, "utf8");
    const lines = text.trimEnd().split("\n");
    const fields = ["signature", "merkle_root", "head_hash", "at", "key_id", "tree_size"] as const;
    for (let n = 0; n < lines.length; n++) {
      const size = (n + 1) * BATCH;
      for (const field of fields) {
        // The file: flip a byte inside the field's value (the last digit of tree_size, so it stays a number).
        const line = lines[n]!;
        const valueStart = line.indexOf(`"${field}":`) + field.length + 3;
        const at = field === "tree_size" ? line.indexOf(",", valueStart) - 1 : valueStart + 1 + (n % 5);
        const bad =
          line.slice(0, at) + (field === "tree_size" ? String(Number(line[at]) ^ 1) : flip(line[at]!, n + 1)) + line.slice(at + 1);
        writeFileSync(cpFile, [...lines.slice(0, n), bad, ...lines.slice(n + 1)].join("\n") + "\n");
        // A changed tree_size is a checkpoint for another size that no key signed: named at the size it claims.
        const claimed = field === "tree_size" ? Number(/"tree_size":(\d+)/.exec(bad)![1]) : size;
        const r = await verifyFull();
        expect(r.firstBad, `file line ${n + 1} ${field}`).toMatchObject({
          seq: claimed,
          checkpoint: claimed,
          reason: "bad checkpoint signature",
        });
        writeFileSync(cpFile, text);

        // The database row.
        const column = field;
        const original = (
          attacker.prepare(`SELECT ${column} AS v FROM audit_checkpoints WHERE tree_size = ?`).get(size) as { v: string | number }
        ).v;
        const changed = typeof original === "number" ? original + 1 : flip(original, n + 3);
        attacker.prepare(`UPDATE audit_checkpoints SET ${column} = ? WHERE tree_size = ?`).run(changed, size);
        try {
          const rdb = await verifyFull();
          const named = typeof original === "number" ? (changed as number) : size;
          expect(rdb.firstBad, `stored checkpoint ${size} ${field}`).toMatchObject({
            seq: named,
            checkpoint: named,
            reason: "bad checkpoint signature",
          });
        } finally {
          attacker
            .prepare(`UPDATE audit_checkpoints SET ${column} = ? WHERE tree_size = ?`)
            .run(original, typeof original === "number" ? changed : size);
        }
      }
    }
    expect(await verifyFull()).toMatchObject({ ok: true, checked: ENTRIES, checkpoints: 20 });
  }, 60_000);

  it("(c) the real binary `cbo audit verify --data <dir> --json` names a sample of flipped entries", async () => {
    const random = Array.from({ length: 4 }, () => 2 + Math.floor(Math.random() * (ENTRIES - 2)));
    const sample = [1, 2, 999, 1000, 1001, 5000, ENTRIES - 1, ENTRIES, ...random];
    for (const seq of sample) {
      const column = columnFor(seq);
      const undo = tamperEntry(seq, column);
      try {
        const r = await runCbo(["audit", "verify", "--data", dir, "--json"], { cwd: root });
        expect(r.code, `#${seq} ${column}: ${r.stderr}`).toBe(1);
        const report = JSON.parse(r.stdout);
        expect(report, `#${seq} ${column}`).toMatchObject({ ok: false, checked: seq - 1, firstBad: { seq, reason: REASON[column] } });
      } finally {
        undo();
      }
    }
    const intact = await runCbo(["audit", "verify", "--data", dir, "--json"], { cwd: root });
    expect(intact.code).toBe(0);
    expect(JSON.parse(intact.stdout)).toMatchObject({ ok: true, checked: ENTRIES, checkpoints: 20 });
  }, 60_000);
});
