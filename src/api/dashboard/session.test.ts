import { describe, expect, it } from "vitest";
import { createSessionStore, sessionRef } from "./session.ts";
import type { Principal } from "../../security/index.ts";

const admin: Principal = { id: "t1", name: "ops", role: "admin", tenant: null };

describe("dashboard sessions", () => {
  it("a session is found by its id only, carries its principal and a separate CSRF token, and ends at logout", () => {
    const store = createSessionStore();
    const s = store.create(admin);
    expect(s.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(s.csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(s.csrf).not.toBe(s.id);
    expect(store.use(s.id)?.principal).toEqual(admin);
    expect(store.use(s.id.slice(0, -1) + (s.id.endsWith("A") ? "B" : "A"))).toBeUndefined();
    expect(store.destroy(s.id)).toBe(true);
    expect(store.use(s.id)).toBeUndefined();
    expect(sessionRef(s.id)).toHaveLength(16);
    expect(sessionRef(s.id)).not.toContain(s.id.slice(0, 8));
  });

  it("ends after idleMs without use, each use moving the idle deadline, and at maxAgeMs however much it is used", () => {
    let t = 0;
    const store = createSessionStore({ idleMs: 100, maxAgeMs: 250, now: () => t });
    const s = store.create(admin);
    for (t = 90; t < 250; t += 90) expect(store.use(s.id), `at ${t}`).toBeDefined();
    expect(store.expiresAt(s)).toBe(250);
    t = 250;
    expect(store.use(s.id)).toBeUndefined();
    const idle = store.create(admin);
    t += 100;
    expect(store.use(idle.id)).toBeUndefined();
  });

  it("peek does not count as a use; every way a session ends is announced", () => {
    let t = 0;
    const store = createSessionStore({ idleMs: 100, maxSessions: 2, now: () => t });
    const ended: string[] = [];
    store.onEnd((id) => ended.push(id));
    const [a, b] = [store.create(admin), store.create(admin)];
    t = 60;
    expect(store.peek(a.id)).toBeDefined();
    t = 100;
    expect(store.peek(a.id)).toBeUndefined(); // idle since 0: peeking did not keep it alive
    expect(ended).toEqual([a.id]);
    store.use(b.id);
    store.destroy(b.id);
    const c = store.create(admin);
    store.create(admin);
    store.create(admin); // evicts c, the least recently used
    expect(ended).toEqual([a.id, b.id, c.id]);
  });

  it("compares CSRF tokens exactly", () => {
    const store = createSessionStore();
    const s = store.create(admin);
    expect(store.csrfMatches(s, s.csrf)).toBe(true);
    expect(store.csrfMatches(s, undefined)).toBe(false);
    expect(store.csrfMatches(s, "")).toBe(false);
    expect(store.csrfMatches(s, s.csrf + "x")).toBe(false);
    expect(store.csrfMatches(s, s.id)).toBe(false);
  });

  it("keeps at most maxSessions, dropping the least recently used first", () => {
    const store = createSessionStore({ maxSessions: 3 });
    const [a, b, c] = [store.create(admin), store.create(admin), store.create(admin)];
    store.use(a.id);
    store.create(admin);
    expect(store.size()).toBe(3);
    expect(store.use(b.id)).toBeUndefined();
    expect(store.use(a.id)).toBeDefined();
    expect(store.use(c.id)).toBeDefined();
  });
});
