import { describe, expect, it } from "vitest";
import { GEOMETRY, layoutArchitecture, linkPath } from "./architecture-layout.ts";

const overlaps = (a: { x: number; y: number; w: number; h: number }, b: typeof a) =>
  a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
const inside = (inner: { x: number; y: number; w: number; h: number }, outer: typeof inner) =>
  inner.x >= outer.x && inner.y >= outer.y && inner.x + inner.w <= outer.x + outer.w && inner.y + inner.h <= outer.y + outer.h;

describe("architecture layout", () => {
  it("puts every region in its own column below the VPS and tunnel, each worker inside its region, nothing overlapping", () => {
    const regions = ["eu", "us", "ap"].map((target) => ({ target, workers: ["ads-api", "ads-attribution"] }));
    const l = layoutArchitecture(regions);
    expect(l.regions.map((r) => r.target)).toEqual(["eu", "us", "ap"]);
    const boxes = [l.vps, l.tunnel, ...l.regions.map((r) => r.box)];
    for (let i = 0; i < boxes.length; i++)
      for (let j = i + 1; j < boxes.length; j++) expect(overlaps(boxes[i]!, boxes[j]!), `${i} vs ${j}`).toBe(false);
    for (const r of l.regions) {
      expect(r.box.y).toBeGreaterThan(l.tunnel.y + l.tunnel.h);
      expect(r.workers.map((w) => w.worker)).toEqual(["ads-api", "ads-attribution"]);
      for (const w of r.workers) expect(inside(w.box, r.box)).toBe(true);
      expect(overlaps(r.workers[0]!.box, r.workers[1]!.box)).toBe(false);
    }
    for (const b of boxes) expect(b.x + b.w).toBeLessThanOrEqual(l.width);
  });

  it("links the VPS to the tunnel and the tunnel to each region's top", () => {
    const l = layoutArchitecture([
      { target: "eu", workers: [] },
      { target: "us", workers: ["a"] },
    ]);
    expect(l.links.map((k) => k.kind)).toEqual(["vps-tunnel", "tunnel-region", "tunnel-region"]);
    const us = l.regions[1]!;
    expect(l.links[2]).toMatchObject({ target: "us", to: { x: us.box.x + us.box.w / 2, y: us.box.y } });
    expect(l.regions[0]!.box.h).toBeGreaterThanOrEqual(GEOMETRY.region.head + GEOMETRY.region.row); // an empty region keeps a row for its note
  });

  it("grows with the fleet: 50 workers in 3 regions fit, in order, one row each", () => {
    const names = Array.from({ length: 50 }, (_, i) => `w${i}`);
    const l = layoutArchitecture(["eu", "us", "ap"].map((target) => ({ target, workers: names })));
    const eu = l.regions[0]!;
    expect(eu.workers).toHaveLength(50);
    for (let i = 1; i < 50; i++) expect(eu.workers[i]!.box.y).toBeGreaterThanOrEqual(eu.workers[i - 1]!.box.y + eu.workers[i - 1]!.box.h);
    expect(l.height).toBeGreaterThanOrEqual(eu.box.y + eu.box.h);
  });

  it("draws links as straight lines across and curves down", () => {
    expect(linkPath({ x: 0, y: 10 }, { x: 50, y: 10 }, true)).toBe("M 0 10 L 50 10");
    expect(linkPath({ x: 0, y: 0 }, { x: 100, y: 100 }, false)).toBe("M 0 0 C 0 50, 100 50, 100 100");
  });
});
