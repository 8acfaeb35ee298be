// A wrangler file whose vars hold a lone surrogate escape is refused naming the path, as
// orchestrator.yaml is (a real file in a temp directory).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readRawWranglerConfig } from "./index.ts";

const dir = mkdtempSync(join(tmpdir(), "cbo-wrangler-wf-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("wrangler files: unpaired surrogates", () => {
  it("JSONC: refused with the path; TOML: refused by its parser", () => {
    const jsonc = join(dir, "wrangler.jsonc");
    writeFileSync(jsonc, '{ "name": "w", "vars": { "GREETING": "hi \\ud800" } }');
    expect(() => readRawWranglerConfig(jsonc)).toThrowError(`${jsonc}: vars.GREETING: holds an unpaired UTF-16 surrogate`);
    const toml = join(dir, "wrangler.toml");
    writeFileSync(toml, 'name = "w"\n[vars]\nA = "x\\uDFFF"\n');
    // TOML has no such escape: its parser refuses it already.
    expect(() => readRawWranglerConfig(toml)).toThrowError(`${toml}: Invalid TOML document: invalid unicode escape`);
  });
});
