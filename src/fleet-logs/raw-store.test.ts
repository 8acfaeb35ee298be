import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openRawStore } from "./raw-store.ts";

const dirs: string[] = [];
const tempFile = () => {
  const d = mkdtempSync(join(tmpdir(), "cbo-rawlogs-"));
  dirs.push(d);
  return join(d, "fleet-logs.sqlite");
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("the raw local copy of fleet logs", () => {
  it("keeps lines exactly as received, 0600, with ids handed out on arrival and paged newest first", () => {
    const file = tempFile();
    const s = openRawStore({ file, keepMs: 60_000, maxBytes: 1 << 30 });
    const raw = JSON.stringify({ outcome: "ok", logs: [{ message: ["planted secret-123 ann@example.com"] }] });
    const a = s.add({ at: Date.now(), worker: "api", target: "eu", verdict: "ok", raw });
    const b = s.add({ at: Date.now(), worker: "api", target: "us", verdict: "error", raw: "{}" });
    const c = s.add({ at: Date.now(), worker: "web", target: "eu", verdict: "ok", raw: "{}" });
    expect([b - a, c - b]).toEqual([1, 1]);
    s.flush();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(s.page({ worker: "api" }, 10).map((r) => r.id)).toEqual([b, a]);
    expect(s.page({ worker: "api", target: "eu" }, 10)[0]!.raw).toBe(raw);
    expect(s.page({ status: "error" }, 10).map((r) => r.id)).toEqual([b]);
    expect(s.page({ before: c }, 1).map((r) => r.id)).toEqual([b]);
    s.close();
    // Ids go on after a restart.
    const again = openRawStore({ file, keepMs: 60_000, maxBytes: 1 << 30 });
    expect(again.add({ at: Date.now(), worker: "api", target: "eu", verdict: "ok", raw: "{}" })).toBe(c + 1);
    again.close();
  });

  it("prunes lines older than keep", () => {
    let now = 1_000_000;
    const s = openRawStore({ file: tempFile(), keepMs: 5_000, maxBytes: 1 << 30, now: () => now });
    s.add({ at: now - 6_000, worker: "api", target: "eu", verdict: "ok", raw: "{}" });
    const kept = s.add({ at: now - 1_000, worker: "api", target: "eu", verdict: "ok", raw: "{}" });
    expect(s.prune()).toBe(1);
    expect(s.page({}, 10).map((r) => r.id)).toEqual([kept]);
    now += 10_000;
    expect(s.prune()).toBe(1);
    expect(s.stats().lines).toBe(0);
    s.close();
  });

  it("keeps the file within max bytes by dropping the oldest lines", () => {
    const s = openRawStore({ file: tempFile(), keepMs: 86_400_000, maxBytes: 512 * 1024 });
    const big = JSON.stringify({ logs: [{ message: ["x".repeat(2000)] }] });
    let last = 0;
    for (let i = 0; i < 1000; i++) {
      last = s.add({ at: Date.now(), worker: "api", target: "eu", verdict: "ok", raw: big });
      if (i % 50 === 49) s.flush();
    }
    s.prune();
    const st = s.stats();
    expect(st.bytes).toBeLessThanOrEqual(512 * 1024);
    expect(st.lines).toBeGreaterThan(50);
    expect(st.lines).toBeLessThan(1000);
    // What is left is the newest.
    expect(s.page({}, 1)[0]!.id).toBe(last);
    s.close();
  });
});
