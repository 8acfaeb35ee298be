import { describe, expect, it } from "vitest";
import { createFaults } from "./faults.ts";

describe("injected API rate limit", () => {
  it("admits at most `limit` calls per sliding window and says how long to wait", () => {
    let t = 1_000_000;
    const faults = createFaults(() => t);
    faults.set("eu", { rateLimit: { limit: 3, windowSec: 10 } });
    expect(faults.rateLimited("eu")).toBeUndefined();
    t += 1000;
    expect(faults.rateLimited("eu")).toBeUndefined();
    expect(faults.rateLimited("eu")).toBeUndefined();
    const wait = faults.rateLimited("eu");
    expect(wait).toBe(9000); // the first call leaves the window 10 s after it was made
    t += 9000;
    expect(faults.rateLimited("eu")).toBeUndefined();
    expect(faults.rateLimited("us")).toBeUndefined(); // other regions are not limited
  });
  it("clearing a fault lifts the limit", () => {
    const faults = createFaults(() => 0);
    faults.set("eu", { rateLimit: { limit: 0, windowSec: 60 } });
    expect(faults.rateLimited("eu")).toBeGreaterThan(0);
    faults.set("eu", null);
    expect(faults.rateLimited("eu")).toBeUndefined();
    expect(faults.get("eu")).toEqual({});
  });
});
