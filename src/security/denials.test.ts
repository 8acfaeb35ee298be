import { describe, expect, it } from "vitest";
import type { NewAuditEntry } from "../audit/index.ts";
import { createDenialLog, type DeniedEntry } from "./denials.ts";

const denial = (over: Partial<DeniedEntry> = {}): DeniedEntry => ({
  actor: "worker:api@eu",
  action: "agent.denied",
  target: "heartbeat",
  tenant: "default",
  outcome: "denied",
  details: { reason: "no_signature" },
  ...over,
});

function rig(o: Parameters<typeof createDenialLog>[1] = {}) {
  let t = 1_000_000;
  const written: NewAuditEntry[] = [];
  const log = createDenialLog((e) => written.push(e), { windowMs: 60_000, fullPerWindow: 1, now: () => t, ...o });
  return { log, written, advance: (ms: number) => (t += ms) };
}

describe("denials on the audit record", () => {
  it("writes the first of a window at once and counts the rest into one summary when the window ends", () => {
    const { log, written, advance } = rig();
    log.note(denial(), "client:203.0.113.7");
    expect(written).toEqual([denial()]);
    for (let i = 0; i < 299; i++) {
      advance(10);
      log.note(denial({ details: { reason: i % 3 === 0 ? "bad_signature" : "no_signature" } }), "client:203.0.113.7");
    }
    expect(written).toHaveLength(1);
    expect(log.pending()).toBe(299);
    log.flushDue();
    expect(written).toHaveLength(1); // the window has not ended
    advance(60_000);
    log.flushDue();
    expect(written).toHaveLength(2);
    expect(written[1]).toMatchObject({
      actor: "client:203.0.113.7",
      action: "agent.denied",
      target: "heartbeat",
      tenant: "default",
      outcome: "denied",
      details: { aggregated: true, count: 299, writtenSeparately: 1, windowMs: 60_000, actors: ["worker:api@eu"], targets: ["heartbeat"] },
    });
    const reasons = (written[1]!.details as { reasons: Array<{ reason: string; count: number }> }).reasons;
    expect(reasons.reduce((n, r) => n + r.count, 0)).toBe(299);
    expect(reasons).toContainEqual({ reason: "bad_signature", count: 100 });
    expect(log.pending()).toBe(0);
    // The next denial opens a new window: written at once again.
    log.note(denial(), "client:203.0.113.7");
    expect(written).toHaveLength(3);
  });

  it("groups by source and action; one source cannot hide another", () => {
    const { log, written } = rig();
    for (let i = 0; i < 5; i++) {
      log.note(denial(), "client:a");
      log.note(denial({ action: "relay.denied", target: "secret:X" }), "client:a");
      log.note(denial(), "client:b");
    }
    expect(written.map((e) => e.action)).toEqual(["agent.denied", "relay.denied", "agent.denied"]);
    log.flushAll();
    expect(written.slice(3).map((e) => [e.actor, e.action, (e.details as { count: number }).count])).toEqual([
      ["client:a", "agent.denied", 4],
      ["client:a", "relay.denied", 4],
      ["client:b", "agent.denied", 4],
    ]);
  });

  it("keeps samples of attacker-chosen names bounded, and counts the others", () => {
    const { log, written } = rig();
    for (let i = 0; i < 50; i++) log.note(denial({ actor: `worker:w${i}@eu`, target: `secret:S${i}` }), "client:a");
    log.flushAll();
    const d = written[1]!.details as { count: number; actors: string[]; otherActors: number; targets: string[]; otherTargets: number };
    expect(written[1]!.target).toBeNull();
    expect(d).toMatchObject({ count: 49, otherActors: 44, otherTargets: 44 });
    expect(d.actors).toHaveLength(5);
    expect(d.targets).toHaveLength(5);
  });

  it("stays bounded with many sources: past the budget of full entries everyone is counted under *", () => {
    const { log, written } = rig({ maxFullPerWindow: 10, maxGroups: 1000 });
    for (let i = 0; i < 5000; i++) log.note(denial(), `client:2001:db8:${i}::/64`);
    expect(written).toHaveLength(10);
    log.flushAll();
    expect(written).toHaveLength(11);
    expect(written[10]).toMatchObject({ actor: "client:*", details: { aggregated: true, count: 4990 } });
    // Every denial is accounted for: 10 in full, 4,990 counted.
  });

  it("flushAll writes every open count (nothing denied goes unrecorded at a stop)", () => {
    const { log, written } = rig({ fullPerWindow: 3 });
    for (let i = 0; i < 7; i++) log.note(denial(), "client:a");
    expect(written).toHaveLength(3);
    log.flushAll();
    expect(written).toHaveLength(4);
    expect(written[3]!.details).toMatchObject({ count: 4, writtenSeparately: 3 });
    log.flushAll();
    expect(written).toHaveLength(4);
  });
});
