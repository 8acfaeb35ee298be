import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseFault, runDir as runEdgeDir, runningDir } from "./edge-command.ts";
import { CboError } from "../../kit/errors.ts";

describe("cbo edge fault arguments", () => {
  it("parses every fault kind", () => {
    expect(parseFault(["outage"])).toEqual({ outage: true });
    expect(parseFault(["latency", "250"])).toEqual({ latencyMs: 250 });
    expect(parseFault(["errors", "0.3"])).toEqual({ errorRate: 0.3 });
    expect(parseFault(["errors", ".5"])).toEqual({ errorRate: 0.5 });
    expect(parseFault(["errors", "1"])).toEqual({ errorRate: 1 });
    expect(parseFault(["ratelimit", "10/60"])).toEqual({ rateLimit: { limit: 10, windowSec: 60 } });
    expect(parseFault(["clear"])).toBeNull();
  });
  it("refuses bad values with a usage error", () => {
    // "" and " " are not 0 (no fault at all), "0x10" is not 16.
    const odd = [
      ["latency", ""],
      ["latency", "0x10"],
      ["latency", "1e3"],
      ["errors", ""],
      ["errors", " "],
      ["errors", "0x1"],
      ["errors", "-0"],
    ];
    for (const words of [
      ["latency"],
      ["latency", "-1"],
      ["errors", "2"],
      ["ratelimit", "ten"],
      ["ratelimit", "5/0"],
      ["boom"],
      [],
      ...odd,
    ]) {
      expect(() => parseFault(words), words.join(" ")).toThrowError(CboError);
      try {
        parseFault(words);
      } catch (e) {
        expect((e as CboError).code).toBe("ERR_USAGE");
      }
    }
  });
});

describe("which edge directory", () => {
  const root = mkdtempSync(join(tmpdir(), "cbo-edge-dirs-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const said: string[] = [];
  const say = (l: string) => said.push(l);

  it("fault and trigger: --edge is the edge's directory, --data the data directory holding it in <data>/edge", () => {
    said.length = 0;
    expect(runningDir({ edge: join(root, "e") }, say)).toBe(join(root, "e"));
    expect(runningDir({ data: root }, say)).toBe(join(root, "edge"));
    expect(runningDir({}, say)).toBe(resolve(".cbo/edge"));
    expect(said).toEqual([]);
  });
  it("still takes --data naming an edge's own directory (it holds edge.json), with a warning", () => {
    said.length = 0;
    const edgeDir = join(root, "old-style");
    mkdirSync(edgeDir);
    writeFileSync(join(edgeDir, "edge.json"), "{}");
    expect(runningDir({ data: edgeDir }, say)).toBe(edgeDir);
    expect(said).toEqual([expect.stringMatching(/is an edge's own directory: say --edge /)]);
  });
  it("cbo edge: --edge, else --data as its old name (warned), else .cbo/edge; both is a usage error", () => {
    said.length = 0;
    expect(runEdgeDir({ edge: join(root, "e") }, say)).toBe(join(root, "e"));
    expect(said).toEqual([]);
    expect(runEdgeDir({ data: join(root, "d") }, say)).toBe(join(root, "d"));
    expect(said).toEqual([expect.stringMatching(/^--data on `cbo edge` names the edge's own directory; say --edge /)]);
    expect(runEdgeDir({}, say)).toBe(resolve(".cbo/edge"));
    for (const pick of [runEdgeDir, runningDir]) expect(() => pick({ edge: "a", data: "b" }, say)).toThrowError(/give one/);
  });
});
