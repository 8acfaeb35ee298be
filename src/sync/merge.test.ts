import { describe, expect, it } from "vitest";
import type { ResolvedWorker } from "../config/load.ts";
import { configFor, configsFor, deepMerge } from "./merge.ts";

const worker = {
  name: "api",
  targets: ["eu", "us"],
  config: {
    values: { ads: { bid: 1, caps: [1, 2] }, motd: "hi" },
    jurisdictions: { eu: { ads: { consent: true } } },
    targets: { us: { ads: { bid: 2, caps: [3] } } },
  },
} as unknown as ResolvedWorker;

describe("config merge", () => {
  it("values, then the jurisdiction's override, then the target's; objects merge, arrays replace", () => {
    expect(configFor(worker, { name: "eu", jurisdiction: "eu" })).toEqual({ ads: { bid: 1, caps: [1, 2], consent: true }, motd: "hi" });
    expect(configFor(worker, { name: "us", jurisdiction: "us" })).toEqual({ ads: { bid: 2, caps: [3] }, motd: "hi" });
    expect(
      configsFor(worker, [
        { name: "eu", api: "local", jurisdiction: "eu" },
        { name: "us", api: "local" },
      ]),
    ).toEqual({
      eu: { ads: { bid: 1, caps: [1, 2], consent: true }, motd: "hi" },
      us: { ads: { bid: 2, caps: [3] }, motd: "hi" },
    });
  });
  it("does not modify its inputs", () => {
    const base = { a: { b: 1 } };
    deepMerge(base, { a: { c: 2 } });
    expect(base).toEqual({ a: { b: 1 } });
  });
});
