import { describe, expect, it } from "vitest";
import { parseSpec } from "../config/load.ts";
import { EXAMPLE_WORKER, EXAMPLE_WORKER_FILE, specYaml } from "./spec-template.ts";

describe("specYaml", () => {
  it("local: one target per region, the example worker, valid against the strict schema", () => {
    const spec = parseSpec(specYaml({ kind: "local", regions: ["eu", "us", "ap"] }), "orchestrator.yaml");
    expect(spec.targets.map((t) => [t.name, t.api, t.jurisdiction])).toEqual([
      ["eu", "local", "eu"],
      ["us", "local", "us"],
      ["ap", "local", "ap"],
    ]);
    expect(spec.workers).toEqual([
      expect.objectContaining({ name: EXAMPLE_WORKER, main: EXAMPLE_WORKER_FILE, version_metadata: "VERSION" }),
    ]);
    expect(spec.rollout.gate.probe_path).toBe("/health");
  });

  it("cloudflare: the API URL and each account id", () => {
    const spec = parseSpec(
      specYaml({
        kind: "cloudflare",
        apiUrl: "https://api.cloudflare.com/client/v4",
        accounts: [
          { name: "cf1", accountId: "a".repeat(32) },
          { name: "cf2", accountId: "b".repeat(32) },
        ],
      }),
      "orchestrator.yaml",
    );
    expect(spec.targets).toEqual([
      expect.objectContaining({ name: "cf1", api: "https://api.cloudflare.com/client/v4", account_id: "a".repeat(32) }),
      expect.objectContaining({ name: "cf2", account_id: "b".repeat(32) }),
    ]);
  });
});
