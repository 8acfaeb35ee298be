// The analyzer's freshness rules with a clock it is given. The analytics API is a STAND-IN here
// (a function recording the windows asked for and answering fixed counts): on the real local edge
// the lag behaviour takes minutes of wall time (test/canary-analysis.test.ts covers lag 0 there).
import { describe, expect, it } from "vitest";
import { AnalysisSchema } from "../../config/schema.ts";
import type { VersionInvocations } from "../../cloudflare/index.ts";
import { CboError } from "../../kit/errors.ts";
import { createStepAnalyzer, type ReadVersions } from "./step-analyzer.ts";

const T0 = Date.parse("2026-12-07T10:00:30Z"); // 30 s into a minute
const spec = AnalysisSchema.parse({ min_requests: 10, interval_ms: 1000 });
const rows = (canary: [number, number], baseline: [number, number]) => (ws: Array<{ versionId: string }>) =>
  ws.map(
    (w, i): VersionInvocations => ({
      versionId: w.versionId,
      requests: (i === 0 ? canary : baseline)[0],
      errors: (i === 0 ? canary : baseline)[1],
      wallTimeP50Ms: 5,
      wallTimeP99Ms: 9,
      minutes: [],
    }),
  );

function analyzer(lagSec: number, answer: (ws: Array<{ versionId: string }>) => VersionInvocations[], clock: { t: number }) {
  const asked: Array<Array<{ from: string; to: string }>> = [];
  const read: ReadVersions = async (ws) => {
    asked.push(ws.map((w) => ({ from: w.from.toISOString(), to: w.to.toISOString() })));
    return answer(ws);
  };
  const a = createStepAnalyzer({
    read,
    spec,
    lagSec,
    target: "eu",
    percent: 10,
    versionId: "new",
    baselineVersionId: "old",
    stepStart: T0,
    bakeMs: 10_000,
    now: () => clock.t,
  });
  return { a, asked };
}

describe("step analyzer", () => {
  it("is due for its first final read as soon as the bake is visible, not an interval after the last read", async () => {
    const clock = { t: T0 + 9_500 };
    const { a } = analyzer(0, rows([100, 0], [1000, 0]), clock);
    expect((await a.read()).verdict).toBe("pending");
    clock.t = T0 + 10_000; // the bake is over 500 ms after that read, half an interval
    expect(a.due()).toBe(true);
    expect(await a.read()).toMatchObject({ verdict: "pass", final: true });
    clock.t += 500; // after the final read the interval holds again
    expect(a.due()).toBe(false);
    clock.t += 500;
    expect(a.due()).toBe(true);
  });

  it("without lag reads up to now, from the step's minute (baseline from the look-back), and passes only once the bake is visible", async () => {
    const clock = { t: T0 + 5_000 };
    const { a, asked } = analyzer(0, rows([100, 0], [1000, 0]), clock);
    expect((await a.read()).verdict).toBe("pending"); // bake not over: cannot pass yet
    expect(asked[0]).toEqual([
      { from: "2026-12-07T10:00:00.000Z", to: "2026-12-07T10:00:35.000Z" },
      { from: "2026-12-07T09:55:00.000Z", to: "2026-12-07T10:00:35.000Z" },
    ]);
    expect(a.due()).toBe(false); // interval_ms not over
    clock.t = T0 + 10_000;
    expect(a.due()).toBe(true);
    const r = await a.read();
    expect([r.verdict, r.final]).toEqual(["pass", true]);
  });

  it("fails at once on errors, before the bake is over", async () => {
    const { a } = analyzer(0, rows([100, 30], [1000, 0]), { t: T0 + 2_000 });
    const r = await a.read();
    expect(r.verdict).toBe("fail");
    expect(r.reason).toMatch(/^errors: canary 30\/100/);
  });

  it("with a lag reads only whole minutes that ended at least lag ago, and waits for them", async () => {
    const clock = { t: T0 + 30_000 }; // 10:01:00, lag 60 s: nothing of the step's minute is visible
    const { a, asked } = analyzer(60, rows([100, 0], [1000, 0]), clock);
    const early = await a.read();
    expect(early.verdict).toBe("pending");
    expect(asked).toHaveLength(0); // not even asked: the window is not visible
    expect(a.visibleBy()).toBe(T0 + 10_000 + 60_000 + 60_000);
    clock.t = Date.parse("2026-12-07T10:02:00Z"); // minute 10:00 ended 60 s ago
    expect(a.due()).toBe(true);
    const r = await a.read();
    expect(asked.at(-1)![0]).toEqual({ from: "2026-12-07T10:00:00.000Z", to: "2026-12-07T10:01:00.000Z" });
    expect([r.verdict, r.final]).toEqual(["pass", true]); // 10:01 covers step start + bake (10:00:40)
    clock.t += 5_000;
    expect(a.due()).toBe(false); // no new minute shows yet
  });

  it("treats analytics without scriptVersion as inconclusive, and an unreadable API as not visible", async () => {
    const missing = analyzer(
      0,
      () => {
        throw new CboError("ERR_CF_REQUEST", 'Cloudflare GraphQL analytics: unknown field "scriptVersion"');
      },
      { t: T0 + 20_000 },
    );
    const r = await missing.a.read();
    expect([r.verdict, r.final]).toEqual(["inconclusive", true]);
    expect(r.reason).toMatch(/no scriptVersion dimension/);
    expect(missing.a.due()).toBe(false);
    const down = analyzer(
      0,
      () => {
        throw new CboError("ERR_CF_UNAVAILABLE", "Cloudflare API unreachable");
      },
      { t: T0 + 20_000 },
    );
    expect((await down.a.read()).verdict).toBe("pending");
  });
});
