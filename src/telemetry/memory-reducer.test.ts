// The memory reducer: its policy (pure), and its effect in a real Node process: a young generation
// grown by surviving allocations is given back, and `gc` never shows up in the process's globals.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { silentLogger } from "./logger.ts";
import { type Reduction, reductionDue, startMemoryReducer } from "./memory-reducer.ts";

const MiB = 1024 * 1024;
const due = (o: Partial<Parameters<typeof reductionDue>[0]>) =>
  reductionDue({ now: 100_000, lastAt: undefined, slack: 64 * MiB, slackLimitBytes: 6 * MiB, minIntervalMs: 60_000, ...o });

describe("reductionDue", () => {
  it("is due when the heap's slack has grown past the limit and none ran yet", () => {
    expect(due({})).toBe(true);
  });
  it("is not due while the slack is within the limit", () => {
    expect(due({ slack: 6 * MiB })).toBe(false);
    expect(due({ slack: 2 * MiB, lastAt: 0 })).toBe(false);
  });
  it("never runs twice within the minimum interval", () => {
    expect(due({ lastAt: 50_000 })).toBe(false);
    expect(due({ lastAt: 40_000 })).toBe(true);
  });
});

const CHILD = `
import { heapSlack, startMemoryReducer, youngGenerationCommitted } from ${JSON.stringify(fileURLToPath(new URL("./memory-reducer.ts", import.meta.url)))};
// Survivors: kept across many scavenges, so V8 grows the young generation; then let go.
let keep = [];
for (let round = 0; round < 60; round++) {
  for (let i = 0; i < 20000; i++) keep.push({ round, i, s: "x" + i });
  if (keep.length > 400000) keep = keep.slice(200000);
}
keep = [];
const lines = [];
const log = { debug: (l) => lines.push(l), info() {}, warn() {}, error() {} };
const before = youngGenerationCommitted();
const slackBefore = heapSlack();
const reducer = startMemoryReducer({ log, settleMs: 3_600_000 });
const r = reducer.reduce("grown");
const youngAfter = youngGenerationCommitted();
const slackAfter = heapSlack();
reducer.stop();
console.log(JSON.stringify({ before, youngAfter, slackBefore, slackAfter, r, gcGlobal: typeof globalThis.gc, lines }));
`;

describe("startMemoryReducer in a real Node process", () => {
  it("gives a grown young generation back and leaves no gc() in the globals", () => {
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", CHILD], { encoding: "utf8", timeout: 60_000 });
    expect(child.status, child.stderr).toBe(0);
    const out = JSON.parse(child.stdout.trim()) as {
      before: number;
      youngAfter: number;
      slackBefore: number;
      slackAfter: number;
      r: { beforeBytes: number; afterBytes: number; reason: string } | null;
      gcGlobal: string;
      lines: string[];
    };
    // The allocation above grows it well past the 4 MiB at which the daemon reduces.
    expect(out.before).toBeGreaterThan(8 * MiB);
    expect(out.r).not.toBeNull();
    expect(out.r!.reason).toBe("grown");
    // The young generation is back to its initial size, the heap's slack is mostly gone, and the
    // heap holds less committed than before.
    expect(out.youngAfter).toBeLessThanOrEqual(4 * MiB);
    expect(out.youngAfter).toBeLessThan(out.before / 4);
    expect(out.slackBefore).toBeGreaterThan(6 * MiB);
    expect(out.slackAfter).toBeLessThan(out.slackBefore / 4);
    expect(out.r!.afterBytes).toBeLessThan(out.r!.beforeBytes);
    expect(out.gcGlobal).toBe("undefined");
    expect(out.lines.join("\n")).toMatch(/^memory: heap \d+\.\d -> \d+\.\d MiB committed \(grown, \d+ ms\)$/);
  });
});

describe("startMemoryReducer's timing", () => {
  it("waits while the daemon is busy (a release running) and reduces once it is idle", async () => {
    let busy = true;
    const done: Reduction[] = [];
    const reducer = startMemoryReducer({
      log: silentLogger,
      settleMs: 10,
      checkEveryMs: 25,
      minIntervalMs: 0,
      busy: () => busy,
      // Reported as grown whatever V8 holds: the timing is what is tested here.
      slack: () => 64 * MiB,
      onReduced: (r) => done.push(r),
    });
    try {
      await new Promise((r) => setTimeout(r, 150));
      expect(done).toEqual([]);
      busy = false;
      const until = Date.now() + 5_000;
      while (done.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      expect(done.map((r) => r.reason)).toEqual(["grown"]);
    } finally {
      reducer.stop();
    }
  });

  it("reduces once start-up has settled when nothing runs", async () => {
    const done: Reduction[] = [];
    const reducer = startMemoryReducer({ log: silentLogger, settleMs: 10, checkEveryMs: 60_000, onReduced: (r) => done.push(r) });
    try {
      const until = Date.now() + 5_000;
      while (done.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      expect(done.map((r) => r.reason)).toEqual(["settled"]);
    } finally {
      reducer.stop();
    }
  });
});
