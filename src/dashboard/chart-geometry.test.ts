import { describe, expect, it } from "vitest";
import { chartGeometry, niceMax, tickNumber } from "./chart-geometry.ts";

const box = { width: 110, height: 60, left: 10, right: 0, top: 10, bottom: 0 };

describe("chart geometry", () => {
  it("rounds the y axis up to 1, 2 or 5 times a power of ten", () => {
    expect([niceMax(0), niceMax(0.03, 0.01), niceMax(7), niceMax(12), niceMax(20), niceMax(201)]).toEqual([1, 0.05, 10, 20, 20, 500]);
  });

  it("writes a tick's number with the decimals it needs: the middle of 0..5 is 2.5, of 0..1 is 0.5", () => {
    expect([0, 0.5, 1, 2.5, 5, 25, 0.25, 1 / 3].map(tickNumber)).toEqual(["0", "0.5", "1", "2.5", "5", "25", "0.25", "0.33"]);
  });

  it("places each value on the shared time axis, from 0 at the bottom to the maximum at the top", () => {
    const g = chartGeometry([{ key: "a", values: [0, 5, 10] }], box);
    expect(g.yMax).toBe(10);
    expect(g.lines).toEqual([{ key: "a", d: "M10,60 L60,35 L110,10", points: 3, dots: [] }]);
    expect(g.yTicks).toEqual([
      { value: 0, y: 60 },
      { value: 5, y: 35 },
      { value: 10, y: 10 },
    ]);
    expect(g.xTicks.map((t) => t.index)).toEqual([0, 1, 2]);
  });

  it("breaks a line at a missing value, and moves when a value changes", () => {
    const before = chartGeometry([{ key: "a", values: [1, null, 1, 1] }], box);
    // The first point stands alone: a dot, since a path of one point draws nothing.
    expect(before.lines[0]).toEqual({ key: "a", d: "M10,10 M76.7,10 L110,10", points: 3, dots: [{ x: 10, y: 10 }] });
    const after = chartGeometry([{ key: "a", values: [1, null, 1, 2] }], box);
    expect(after.lines[0]!.d).not.toBe(before.lines[0]!.d);
  });
});
