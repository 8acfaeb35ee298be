import { describe, expect, it } from "vitest";
import { AUDIT_BUDGET, auditedChanges, configChanges, MASKED } from "./config-changes.ts";

describe("what changed in a config", () => {
  it("walks objects key by key, compares arrays and scalars whole, says what was added and removed", () => {
    const before = { bid: 1, motd: "hi", limits: { rate: 10, burst: 5 }, tags: ["a", "b"], gone: true };
    const after = { bid: 2, motd: "hi", limits: { rate: 10, burst: 6, extra: null }, tags: ["a", "c"], added: { x: 1 } };
    expect(configChanges(before, after)).toEqual([
      { path: "added", after: { x: 1 } },
      { path: "bid", before: 1, after: 2 },
      { path: "gone", before: true },
      { path: "limits.burst", before: 5, after: 6 },
      { path: "limits.extra", after: null },
      { path: "tags", before: ["a", "b"], after: ["a", "c"] },
    ]);
    expect(configChanges(undefined, { a: 1 })).toEqual([{ path: "a", after: 1 }]);
    expect(configChanges({ a: { b: 1 } }, { a: { b: 1 } })).toEqual([]);
    // An object replaced by a scalar is one change at its path.
    expect(configChanges({ a: { b: 1 } }, { a: 3 })).toEqual([{ path: "a", before: { b: 1 }, after: 3 }]);
  });

  it("masks the values of keys that name a secret, and everything under them", () => {
    const changes = configChanges(
      { stripe: { api_key: "sk-old", region: "eu" }, credentials: { user: "u1" }, token_id: "t1" },
      { stripe: { api_key: "sk-new", region: "us" }, credentials: { user: "u2" }, token_id: "t2" },
    );
    expect(changes).toEqual([
      { path: "credentials.user", before: MASKED, after: MASKED, masked: true },
      { path: "stripe.api_key", before: MASKED, after: MASKED, masked: true },
      { path: "stripe.region", before: "eu", after: "us" },
      // About a secret, not one (the audit guard's rule): shown.
      { path: "token_id", before: "t1", after: "t2" },
    ]);
    expect(JSON.stringify(changes)).not.toMatch(/sk-|u1|u2/);
  });

  it("keeps values as JSON text in the audit entry, names long ones by size and hash, and stays within its budget", () => {
    const long = "x".repeat(AUDIT_BUDGET.valueChars + 10);
    const { changes, more } = auditedChanges([
      {
        target: "eu",
        changes: [
          { path: "bid", before: 1, after: 2 },
          { path: "motd", after: long },
        ],
      },
      { target: "us", changes: [{ path: "k", before: MASKED, after: MASKED, masked: true }] },
    ]);
    expect(more).toBe(0);
    expect(changes).toEqual([
      { target: "eu", path: "bid", before: "1", after: "2" },
      { target: "eu", path: "motd", after: expect.stringMatching(/^<\d+ characters of JSON, sha256 [0-9a-f]{16}>$/) },
      { target: "us", path: "k", before: '"***"', after: '"***"', masked: true },
    ]);
    const many = Array.from({ length: 500 }, (_, i) => ({ path: `key${i}`, before: "a".repeat(100), after: "b".repeat(100) }));
    const bounded = auditedChanges([{ target: "eu", changes: many }]);
    expect(bounded.changes.length + bounded.more).toBe(500);
    expect(bounded.more).toBeGreaterThan(0);
    expect(JSON.stringify(bounded.changes).length).toBeLessThanOrEqual(AUDIT_BUDGET.chars);
  });
});
