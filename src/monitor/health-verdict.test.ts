import { describe, expect, it } from "vitest";
import { decideHealth } from "./health-verdict.ts";

const known = { known: true };

describe("decideHealth", () => {
  it("calls a 2xx answer healthy and keeps its latency", () => {
    expect(decideHealth({ kind: "response", httpStatus: 200, latencyMs: 12.345 }, known)).toEqual({
      status: "healthy",
      latencyMs: 12.3,
      detail: "HTTP 200",
    });
    expect(decideHealth({ kind: "response", httpStatus: 204, latencyMs: 1 }, known).status).toBe("healthy");
    expect(decideHealth({ kind: "response", httpStatus: 299, latencyMs: 1 }, known).status).toBe("healthy");
  });

  it("calls any other status unhealthy, naming it", () => {
    for (const httpStatus of [199, 301, 404, 500, 503]) {
      const v = decideHealth({ kind: "response", httpStatus, latencyMs: 3 }, known);
      expect(v).toEqual({ status: "unhealthy", latencyMs: 3, detail: `HTTP ${httpStatus}` });
    }
  });

  it("calls a timeout unhealthy with the limit in the detail", () => {
    expect(decideHealth({ kind: "timeout", timeoutMs: 2000 }, known)).toEqual({
      status: "unhealthy",
      latencyMs: null,
      detail: "timeout after 2000 ms",
    });
  });

  it("turns socket errors into short words", () => {
    expect(decideHealth({ kind: "error", code: "ECONNREFUSED", message: "connect ECONNREFUSED 127.0.0.1:1" }, known).detail).toBe(
      "connection refused",
    );
    expect(decideHealth({ kind: "error", code: "ECONNRESET", message: "socket hang up" }, known).detail).toBe("connection reset");
    expect(decideHealth({ kind: "error", code: "EWEIRD", message: "first line\nsecond line" }, known).detail).toBe("EWEIRD: first line");
    expect(decideHealth({ kind: "error", code: undefined, message: "x".repeat(500) }, known).detail).toHaveLength(120);
  });

  it("says unknown, not unhealthy, for a Worker never put on the target", () => {
    const v = decideHealth({ kind: "response", httpStatus: 404, latencyMs: 2 }, { known: false });
    expect(v.status).toBe("unknown");
    expect(v.detail).toMatch(/^HTTP 404 \(no version recorded/);
    // A 2xx is healthy whoever deployed it.
    expect(decideHealth({ kind: "response", httpStatus: 200, latencyMs: 2 }, { known: false }).status).toBe("healthy");
  });
});
