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

describe("wrangler.jsonc: what jsonc-parser lets through or cannot take", () => {
  const write = (text: string) => {
    const file = join(dir, "wrangler.jsonc");
    writeFileSync(file, text);
    return file;
  };
  const refusal = (file: string) => {
    try {
      readRawWranglerConfig(file);
    } catch (e) {
      return `${(e as { code?: string }).code}: ${(e as Error).message}`;
    }
    return "accepted";
  };

  it("a key given twice in one object is refused with its path and line (the first would do nothing)", () => {
    const top = write('{\n  "name": "a",\n  "main": "i.js",\n  "name": "b"\n}');
    expect(refusal(top)).toBe(`ERR_VALIDATION: ${top}:4: name: the key is given twice in one object.`);
    const inner = write('{ "name": "a", "vars": { "A": "1" },\n "kv_namespaces": [{ "binding": "K", "id": "x", "binding": "L" }] }');
    expect(refusal(inner)).toBe(`ERR_VALIDATION: ${inner}:2: kv_namespaces[0].binding: the key is given twice in one object.`);
    // The same key in two objects is two keys.
    expect(readRawWranglerConfig(write('{ "name": "a", "vars": { "name": "x" }, "env": { "p": { "name": "a" } } }'))).toMatchObject({
      vars: { name: "x" },
    });
  });

  it("nesting thousands deep is ERR_VALIDATION with the line, not a stack overflow; a byte order mark is read past", () => {
    const deep = write(`{ "name": "a",\n "vars": ${'{"a":'.repeat(5000)}1${"}".repeat(5000)} }`);
    expect(refusal(deep)).toBe(`ERR_VALIDATION: ${deep}:2: values are nested more than 1000 levels deep here.`);
    expect(readRawWranglerConfig(write('\uFEFF{ "name": "a" }'))).toEqual({ name: "a" });
  });
});
