import { describe, expect, it } from "vitest";
import { createPaint } from "../table.ts";
import { formatAuditEntries } from "../format-audit.ts";
import { formatVerifyResult, type VerifyReport } from "./format-verify.ts";

const plain = createPaint(false);
const base: VerifyReport = {
  ok: true,
  checked: 30,
  checkpoints: 2,
  head: { seq: 30, hash: "ab".repeat(32) },
  db: "/d/orchestrator.sqlite",
  checkpointFiles: [{ file: "/off/cp.jsonl", checkpoints: 1, unreadableLines: [] }],
  storedCheckpoints: 1,
  keys: [{ source: "--public-key", keyId: "ed25519:0011223344556677" }],
  keyBesideLog: false,
  coveredBySignature: 30,
};

describe("formatVerifyResult", () => {
  it("ok: what was proven and by what", () => {
    expect(formatVerifyResult(base, plain)).toBe(
      "ok: the audit log in /d/orchestrator.sqlite verifies: 30 entries, head #30 abababababababab\n" +
        "checkpoints: 2 signed and matching (1 stored in the database, 1 from /off/cp.jsonl); public key: ed25519:0011223344556677 from --public-key\n",
    );
  });
  it("failure: the first bad entry, the range a checkpoint can only narrow it to, unreadable checkpoint lines", () => {
    const text = formatVerifyResult(
      {
        ...base,
        ok: false,
        checked: 10,
        checkpoints: 1,
        coveredBySignature: 0,
        firstBad: { seq: 11, reason: "checkpoint root mismatch", message: "entries 11..20 do not match", checkpoint: 20, range: [11, 20] },
        checkpointFiles: [{ file: "/off/cp.jsonl", checkpoints: 2, unreadableLines: [3] }],
      },
      plain,
    );
    expect(text.split("\n")).toEqual([
      "FAILED: entry #11: checkpoint root mismatch: entries 11..20 do not match",
      "the fault lies within entries 11..20 (checkpoint at tree size 20)",
      "verified before it: 10 entries and 1 checkpoint (1 stored in the database, 2 from /off/cp.jsonl); public key: ed25519:0011223344556677 from --public-key",
      "/off/cp.jsonl: line 3 cannot be read as a checkpoint",
      "",
    ]);
  });
});

describe("formatAuditEntries", () => {
  it("one aligned line per entry; details as compact JSON", () => {
    const e = (seq: number, action: string, details: Record<string, unknown> = {}) => ({
      seq,
      at: "2025-06-01T12:00:00.000Z",
      actor: "token:ci",
      action,
      target: seq === 2 ? null : "secret:A",
      outcome: "ok",
      details,
    });
    expect(formatAuditEntries([e(1, "secret.put", { version: 1 }), e(2, "token.create")], "none")).toBe(
      '#1  2025-06-01T12:00:00.000Z  token:ci  secret.put    secret:A  ok  {"version":1}\n' +
        "#2  2025-06-01T12:00:00.000Z  token:ci  token.create  -         ok\n",
    );
    expect(formatAuditEntries([], "the audit log is empty")).toBe("the audit log is empty\n");
  });
});
