import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CboError } from "../../kit/errors.ts";
import { loadSpec } from "../load.ts";
import { runWorkerFirstProblems } from "./run-worker-first.ts";

describe("run_worker_first rules, checked as wrangler checks them before a deploy", () => {
  it("takes rules that start with / or !/, at least one of them positive", () => {
    expect(runWorkerFirstProblems(["/api/*", "!/api/docs/*", "/health"])).toEqual([]);
  });

  it("names every rule wrangler refuses, in its words", () => {
    expect(runWorkerFirstProblems([])).toEqual(["no rules were provided; give at least 1 rule, or `true`/`false`"]);
    expect(runWorkerFirstProblems(["api/*"])).toEqual(["'api/*': rules must start with '/' or '!/'"]);
    expect(runWorkerFirstProblems(["/a", "!api"])).toEqual(["'!api': negative rules must start with '!/'"]);
    expect(runWorkerFirstProblems(["!/docs/*"])).toEqual(["only negative rules were provided; give at least 1 non-negative rule"]);
    expect(runWorkerFirstProblems(["/api/*", "/api/v1"])).toEqual(["'/api/v1': rule '/api/*' makes it redundant"]);
    expect(runWorkerFirstProblems(["/a", "/a"])).toEqual(["'/a': rule is a duplicate; rules must be unique"]);
    expect(runWorkerFirstProblems([`/${"x".repeat(100)}`])).toHaveLength(1);
    expect(runWorkerFirstProblems(Array.from({ length: 101 }, (_, i) => `/r${i}`))).toEqual([
      "101 rules provided exceeds the maximum of 100",
    ]);
  });

  it("refuses a wrangler file and an orchestrator.yaml worker with such a rule, naming the key", () => {
    const dir = mkdtempSync(join(tmpdir(), "cbo-rwf-"));
    writeFileSync(
      join(dir, "wrangler.toml"),
      'name = "site"\nmain = "index.js"\ncompatibility_date = "2025-01-01"\n[assets]\ndirectory = "public"\nrun_worker_first = ["api/*"]\n',
    );
    const refusal = (yaml: string) => {
      writeFileSync(join(dir, "orchestrator.yaml"), `targets: [{ name: eu }]\n${yaml}`);
      try {
        loadSpec(join(dir, "orchestrator.yaml"));
      } catch (e) {
        expect(e).toBeInstanceOf(CboError);
        return (e as CboError).message;
      }
      throw new Error("expected a refusal");
    };
    const fromFile = refusal("workers:\n  - { wrangler: wrangler.toml }\n");
    expect(fromFile).toContain("run_worker_first");
    expect(fromFile).toContain("'api/*': rules must start with '/' or '!/'");
    const fromSpec = refusal(
      "workers:\n  - { name: site, main: index.js, assets: { directory: public, run_worker_first: ['!/docs/*'] } }\n",
    );
    expect(fromSpec).toContain("run_worker_first");
    expect(fromSpec).toContain("only negative rules were provided");
  });
});
