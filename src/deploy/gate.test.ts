import { describe, expect, it } from "vitest";
import { GateSchema } from "../config/schema.ts";
import { explainGate, explainTraffic, graceMs, judgeGate, judgeTraffic, summarize, type Sample } from "./gate.ts";

const gate = GateSchema.parse({ interval_ms: 50, bake_ms: 500, min_samples: 5, failure_limit: 3, max_error_rate: 0.05, timeout_ms: 1000 });
const ok: Sample = { ok: true, status: 200, latencyMs: 3 };
const bad: Sample = { ok: false, status: 500, latencyMs: 3, error: "HTTP 500" };
const run = (pattern: string): Sample[] => [...pattern].map((c) => (c === "." ? ok : bad));

describe("judgeGate", () => {
  it("continues while the bake lasts and probes are healthy", () => {
    expect(judgeGate([], gate, 0)).toBe("continue");
    expect(judgeGate(run("....."), gate, 200)).toBe("continue");
  });

  it("passes once the bake is over with enough healthy samples", () => {
    expect(judgeGate(run(".........."), gate, 500)).toBe("pass");
    expect(judgeGate(run("....."), gate, 501)).toBe("pass");
  });

  it("waits past the bake for min_samples, then gives up after the grace period", () => {
    expect(judgeGate(run("..."), gate, 600)).toBe("continue");
    expect(judgeGate(run("..."), gate, 500 + graceMs(gate) - 1)).toBe("continue");
    expect(judgeGate(run("..."), gate, 500 + graceMs(gate))).toBe("fail");
  });

  it("fails at once on failure_limit consecutive failures, before min_samples", () => {
    expect(judgeGate(run("xx"), gate, 100)).toBe("continue");
    expect(judgeGate(run("xxx"), gate, 100)).toBe("fail");
    expect(judgeGate(run("....xxx"), { ...gate, max_error_rate: 1 }, 100)).toBe("fail");
  });

  it("does not count failures that are not consecutive towards failure_limit", () => {
    expect(judgeGate(run("x.x.x"), { ...gate, max_error_rate: 1 }, 100)).toBe("continue");
  });

  it("fails on an error rate above max_error_rate once min_samples are in", () => {
    // 1 of 4: too few samples to judge the rate.
    expect(judgeGate(run("x..."), gate, 100)).toBe("continue");
    // 1 of 5 = 20% > 5%.
    expect(judgeGate(run("x...."), gate, 100)).toBe("fail");
    // Exactly at the limit passes: 1 of 20 = 5%.
    expect(judgeGate(run("x..................."), gate, 600)).toBe("pass");
    expect(judgeGate(run("x.................."), gate, 600)).toBe("fail");
  });

  it("catches a version failing ~30% of requests within its first samples", () => {
    // A deterministic 30% pattern: 3 failures in every 10.
    const samples = run("..x..x...x");
    expect(judgeGate(samples.slice(0, 5), gate, 250)).toBe("fail");
  });

  it("with max_error_rate 1 and a high limit, only the bake decides", () => {
    const lax = { ...gate, max_error_rate: 1, failure_limit: 1000 };
    expect(judgeGate(run("xxxxx"), lax, 500)).toBe("pass");
  });
});

describe("summarize and explainGate", () => {
  it("counts failures, the rate and the failing tail", () => {
    expect(summarize(run("..x.xx"))).toEqual({ samples: 6, failures: 3, errorRate: 0.5, consecutiveFailures: 2, lastError: "HTTP 500" });
    expect(summarize([])).toMatchObject({ samples: 0, errorRate: 0, consecutiveFailures: 0, lastError: null });
  });
  it("says why a gate failed", () => {
    expect(explainGate("fail", run("xxx"), gate)).toMatch(/3 consecutive probes failed \(last: HTTP 500\)/);
    expect(explainGate("fail", run("x...."), gate)).toMatch(/error rate 20\.0% above 5\.0%/);
    expect(explainGate("fail", run(".."), gate)).toMatch(/only 2 of 5 probes/);
    expect(explainGate("pass", run("....."), gate)).toMatch(/0\/5 probes failed/);
  });
});

describe("judgeTraffic", () => {
  const gate = GateSchema.parse({ min_samples: 8, max_error_rate: 0.05 });
  it("fails on the agents' reported error rate once there are enough requests", () => {
    expect(judgeTraffic({ requests: 100, errors: 30 }, gate)).toBe("fail");
    expect(judgeTraffic({ requests: 100, errors: 5 }, gate)).toBe("ok");
    expect(judgeTraffic({ requests: 4, errors: 4 }, gate)).toBe("ok");
    expect(judgeTraffic({ requests: 0, errors: 0 }, gate)).toBe("ok");
    expect(explainTraffic({ requests: 100, errors: 30 }, gate)).toBe(
      "its own traffic (agent heartbeats): 30/100 requests failed (30.0%), above 5.0%",
    );
  });
});
