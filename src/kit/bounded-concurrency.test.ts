import { describe, expect, it } from "vitest";
import { forEachBounded } from "./bounded-concurrency.ts";

const tick = () => new Promise((r) => setTimeout(r, 5));

describe("forEachBounded", () => {
  it("never runs more than the limit at once, and runs every item", async () => {
    let inFlight = 0;
    let peak = 0;
    const done: number[] = [];
    await forEachBounded([...Array(20).keys()], 4, async (i) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await tick();
      inFlight--;
      done.push(i);
    });
    expect(peak).toBe(4);
    expect(done.sort((a, b) => a - b)).toEqual([...Array(20).keys()]);
  });

  it("finishes the other items when one fails, then rethrows the first failure", async () => {
    const done: number[] = [];
    await expect(
      forEachBounded([1, 2, 3, 4], 2, async (i) => {
        await tick();
        if (i === 2) throw new Error("two failed");
        done.push(i);
      }),
    ).rejects.toThrow("two failed");
    expect(done.sort()).toEqual([1, 3, 4]);
  });

  it("resolves at once for no items", async () => {
    await forEachBounded([], 3, async () => {
      throw new Error("not called");
    });
  });
});
