import { describe, expect, it } from "vitest";
import { expiresFlag, parseDurationMs, timeFlag } from "./durations.ts";

const NOW = Date.parse("2025-06-01T12:00:00.000Z");

describe("time flags", () => {
  it("durations: s m h d w", () => {
    expect([parseDurationMs("90s"), parseDurationMs("30m"), parseDurationMs("12h"), parseDurationMs("7d"), parseDurationMs("2w")]).toEqual([
      90_000, 1_800_000, 43_200_000, 604_800_000, 1_209_600_000,
    ]);
    expect(parseDurationMs("1y")).toBeUndefined();
    expect(parseDurationMs("-1d")).toBeUndefined();
  });
  it("a duration counts ahead (--expires) or back (--since); an ISO time stays itself, normalised to UTC", () => {
    expect(expiresFlag("30d", NOW)).toBe("2025-07-01T12:00:00.000Z");
    expect(timeFlag("1h", "since", -1, NOW)).toBe("2025-06-01T11:00:00.000Z");
    expect(timeFlag("2025-01-31T12:00:00+01:00", "until", -1, NOW)).toBe("2025-01-31T11:00:00.000Z");
    expect(expiresFlag("2026-01-01", NOW)).toBe("2026-01-01T00:00:00.000Z");
  });
  it("refuses nonsense and an expiry in the past", () => {
    expect(() => timeFlag("yesterday", "since", -1, NOW)).toThrowError(/--since takes a duration/);
    expect(() => timeFlag("2025-13-45", "since", -1, NOW)).toThrowError(/--since takes a duration/);
    expect(() => expiresFlag("2025-05-01", NOW)).toThrowError(/in the past/);
  });
});
