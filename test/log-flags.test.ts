// --log-format and --log-level on `cbo daemon` and `cbo up` (and CBO_LOG_FORMAT / CBO_LOG_LEVEL):
// a misspelt value is refused before anything starts, naming what is accepted.
import { describe, expect, it } from "vitest";
import { logSettings } from "../src/telemetry/index.ts";
import { runCbo } from "./support/run-cbo.ts";

describe("log flags", () => {
  it("flags win over the environment, which wins over the defaults", () => {
    expect(logSettings({ env: {} })).toEqual({ format: "text", level: "info" });
    expect(logSettings({ env: { CBO_LOG_FORMAT: "json", CBO_LOG_LEVEL: "debug" } })).toEqual({ format: "json", level: "debug" });
    expect(logSettings({ format: "text", level: "warn", env: { CBO_LOG_FORMAT: "json" } })).toEqual({ format: "text", level: "warn" });
  });

  it("the real cbo refuses a bad format or level with ERR_VALIDATION and exit 1, for daemon and up", async () => {
    for (const args of [
      ["daemon", "--log-format", "xml"],
      ["up", "--log-level", "loud"],
    ]) {
      const run = await runCbo(args, { timeoutMs: 20_000 });
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toMatch(/ERR_VALIDATION: Unknown log (format "xml"|level "loud")/);
    }
    const env = await runCbo(["daemon"], { env: { CBO_LOG_FORMAT: "yaml" }, timeoutMs: 20_000 });
    expect(env.code).toBe(1);
    expect(env.stderr).toContain('Unknown log format "yaml"');
  });
});
