// The bundled example fleet across an upgrade (task UPGRADE): ads-api's Durable Object came with a
// later version of the example, so on a data directory whose edge runs the ads-api from before it,
// `npm start` must take the class through a non-gradual release. Without the example's opt-in the
// release was refused (ERR_CONFIRMATION_REQUIRED: "ads-api not started" in cbo up's summary, and
// `cbo secrets deliver SHOPIFY_WEBHOOK_SECRET` failed), seen with data directories of main at
// c0fb07f and 8b0cbbb. The release itself (one target at a time, 100%, gated) is covered by
// test/release-durable-objects.test.ts; this checks what the example asks for.
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadSpec } from "../src/config/load.ts";

const EXAMPLE = fileURLToPath(new URL("../examples/orchestrator.yaml", import.meta.url));

describe("the example fleet", () => {
  it("opts ads-api, the Worker with a Durable Object, in to non-gradual releases, and only it", () => {
    const spec = loadSpec(EXAMPLE);
    expect(spec.workers.map((w) => [w.name, w.allowNonGradual])).toEqual([
      ["ads-attribution", false],
      ["ads-api", true],
      ["ads-conversions", false],
    ]);
  });
});
