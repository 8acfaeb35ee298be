// Where each box of the architecture picture goes. Pure geometry, so that it is tested without a
// browser: the VPS (the daemon) and the tunnel on the top row, then one column per region/account
// below, each listing its Workers; links run VPS -> tunnel -> every region.
export type Box = { x: number; y: number; w: number; h: number };
export type Point = { x: number; y: number };
export type RegionLayout = { target: string; box: Box; workers: Array<{ worker: string; box: Box }> };
export type ArchLayout = {
  width: number;
  height: number;
  vps: Box;
  tunnel: Box;
  regions: RegionLayout[];
  links: Array<{ from: Point; to: Point; kind: "vps-tunnel" | "tunnel-region"; target?: string }>;
};

export const GEOMETRY = {
  margin: 16,
  top: { w: 220, h: 84, gap: 80 },
  /** Vertical room between the top row and the regions, for the links. */
  fanout: 64,
  region: { w: 260, head: 62, row: 32, rowGap: 6, pad: 10, gap: 24 },
} as const;

export function layoutArchitecture(regions: Array<{ target: string; workers: string[] }>): ArchLayout {
  const { margin, top, fanout, region: R } = GEOMETRY;
  const vps: Box = { x: margin, y: margin, w: top.w, h: top.h };
  const tunnel: Box = { x: vps.x + top.w + top.gap, y: margin, w: top.w, h: top.h };
  const regionY = margin + top.h + fanout;
  const laid = regions.map((r, i): RegionLayout => {
    const rows = Math.max(1, r.workers.length);
    const box: Box = { x: margin + i * (R.w + R.gap), y: regionY, w: R.w, h: R.head + rows * (R.row + R.rowGap) - R.rowGap + R.pad };
    const workers = r.workers.map((worker, j) => ({
      worker,
      box: { x: box.x + R.pad, y: box.y + R.head + j * (R.row + R.rowGap), w: R.w - 2 * R.pad, h: R.row },
    }));
    return { target: r.target, box, workers };
  });
  const right = (b: Box): Point => ({ x: b.x + b.w, y: b.y + b.h / 2 });
  const links: ArchLayout["links"] = [
    { from: right(vps), to: { x: tunnel.x, y: tunnel.y + tunnel.h / 2 }, kind: "vps-tunnel" },
    ...laid.map((r) => ({
      from: { x: tunnel.x + tunnel.w / 2, y: tunnel.y + tunnel.h },
      to: { x: r.box.x + r.box.w / 2, y: r.box.y },
      kind: "tunnel-region" as const,
      target: r.target,
    })),
  ];
  const width = Math.max(tunnel.x + tunnel.w, ...laid.map((r) => r.box.x + r.box.w)) + margin;
  const height = Math.max(regionY + 40, ...laid.map((r) => r.box.y + r.box.h)) + margin;
  return { width, height, vps, tunnel, regions: laid, links };
}

/** A smooth link from `a` down to `b` as an SVG path. */
export function linkPath(a: Point, b: Point, horizontal: boolean): string {
  if (horizontal) return `M ${a.x} ${a.y} L ${b.x} ${b.y}`;
  const mid = (a.y + b.y) / 2;
  return `M ${a.x} ${a.y} C ${a.x} ${mid}, ${b.x} ${mid}, ${b.x} ${b.y}`;
}
