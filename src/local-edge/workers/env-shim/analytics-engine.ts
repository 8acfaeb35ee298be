// The Analytics Engine dataset binding inside a loaded Worker (env-shim): writeDataPoint() is
// synchronous and returns nothing, so the point goes to the router's AnalyticsSink in the
// background, kept alive past the response by waitUntil.
import { waitUntil } from "cloudflare:workers";
import type { ShimDescriptor } from "./descriptor.ts";

/** What the router puts under __CBO_SHIM for an analytics_engine binding. */
export type AnalyticsEngineDescriptor = {
  kind: "analytics_engine";
  dataset: string;
  sink: { write(dataset: string, point: unknown): Promise<void> };
};

export function analyticsEngineDataset(descriptor: ShimDescriptor, binding: string) {
  const d = descriptor as unknown as AnalyticsEngineDescriptor;
  const text = (v: unknown) =>
    v === null || v === undefined ? null : typeof v === "string" ? v : new TextDecoder().decode(v as ArrayBuffer);
  return {
    writeDataPoint(p: { indexes?: unknown[]; blobs?: unknown[]; doubles?: number[] } = {}) {
      const indexes = p.indexes ?? [];
      const blobs = p.blobs ?? [];
      const doubles = p.doubles ?? [];
      if (indexes.length > 1) throw new Error(`${binding}.writeDataPoint: at most 1 index is allowed.`);
      if (blobs.length > 20) throw new Error(`${binding}.writeDataPoint: at most 20 blobs are allowed.`);
      if (doubles.length > 20) throw new Error(`${binding}.writeDataPoint: at most 20 doubles are allowed.`);
      if (doubles.some((x) => typeof x !== "number")) throw new TypeError(`${binding}.writeDataPoint: doubles must be numbers.`);
      const point = { index1: text(indexes[0]), blobs: blobs.map(text), doubles };
      // Fire and forget, like the real binding, but kept alive past the response.
      waitUntil(d.sink.write(d.dataset, point).catch(() => {}));
    },
  };
}
