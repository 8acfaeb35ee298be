import { describe, expect, it } from "vitest";
import { parseBudgetSetting } from "./budget-setting.ts";

describe("CBO_CF_BUDGET", () => {
  it("reads LIMIT (per 5 minutes) or LIMIT/SECONDS", () => {
    expect(parseBudgetSetting("600")).toEqual({ limit: 600, windowMs: 300_000 });
    expect(parseBudgetSetting(" 10/20 ")).toEqual({ limit: 10, windowMs: 20_000 });
    expect(parseBudgetSetting("10/20s")).toEqual({ limit: 10, windowMs: 20_000 });
  });

  it("refuses anything else, saying what it takes", () => {
    for (const bad of ["", "0", "ten", "10/0", "10/5m", "-3"]) {
      expect(() => parseBudgetSetting(bad)).toThrow(
        expect.objectContaining({ code: "ERR_VALIDATION", hint: expect.stringMatching(/LIMIT\/SECONDS, e\.g\. 960\/300/) }),
      );
    }
  });
});
