import { describe, expect, it } from "vitest";
import { parseFault } from "./edge-command.ts";
import { CboError } from "../../kit/errors.ts";

describe("cbo edge fault arguments", () => {
  it("parses every fault kind", () => {
    expect(parseFault(["outage"])).toEqual({ outage: true });
    expect(parseFault(["latency", "250"])).toEqual({ latencyMs: 250 });
    expect(parseFault(["errors", "0.3"])).toEqual({ errorRate: 0.3 });
    expect(parseFault(["ratelimit", "10/60"])).toEqual({ rateLimit: { limit: 10, windowSec: 60 } });
    expect(parseFault(["clear"])).toBeNull();
  });
  it("refuses bad values with a usage error", () => {
    for (const words of [["latency"], ["latency", "-1"], ["errors", "2"], ["ratelimit", "ten"], ["ratelimit", "5/0"], ["boom"], []]) {
      expect(() => parseFault(words), words.join(" ")).toThrowError(CboError);
      try {
        parseFault(words);
      } catch (e) {
        expect((e as CboError).code).toBe("ERR_USAGE");
      }
    }
  });
});
