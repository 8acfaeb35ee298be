// The plan tool's text (shown to the user before a release) carries the plan's warnings, as
// `cbo plan` prints them; the release tool's unconfirmed answer is built from the same text.
import { describe, expect, it } from "vitest";
import { planText } from "./tools-read.ts";

const base = {
  worker: "shop",
  waves: [["eu"]],
  steps: [100],
  targets: [{ name: "eu", accountId: "0".repeat(32), previousVersionId: null, live: [] }],
};

describe("planText", () => {
  it("lists each warning of the plan", () => {
    const text = planText({
      ...base,
      warnings: ['"r2_buckets" exists at the top level, but not on "env.staging"', "_redirects:2: Expected exactly 2 or 3 tokens"],
    });
    expect(text).toContain('\n  Warning: "r2_buckets" exists at the top level, but not on "env.staging"');
    expect(text).toContain("\n  Warning: _redirects:2: Expected exactly 2 or 3 tokens");
  });

  it("says nothing of warnings when there are none", () => {
    expect(planText({ ...base, warnings: [] })).not.toMatch(/warning/i);
  });
});
