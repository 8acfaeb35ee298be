// Reads a wrangler.toml / wrangler.json / wrangler.jsonc as written, with the parsers wrangler
// itself uses (smol-toml, jsonc-parser with trailing commas), under the spec's size limits.
import { createRequire } from "node:module";
import type { ParseError } from "jsonc-parser";
import { CboError } from "../../kit/errors.ts";
import { checkTextSize, checkValueSizes, readSpecFile } from "../size-limits.ts";
import { checkWellFormed } from "../well-formed.ts";
import { checkJsoncDepth, checkJsoncDuplicates } from "./jsonc-shape.ts";

export type RawWranglerConfig = Record<string, unknown>;

// The parsers load only when a wrangler config is read (synchronously: Node 24 can require ES
// modules), keeping them out of a daemon whose spec names no wrangler file.
const requireLazy = createRequire(import.meta.url);
const toml = () => requireLazy("smol-toml") as typeof import("smol-toml");
const jsonc = () => requireLazy("jsonc-parser") as typeof import("jsonc-parser");

export function readRawWranglerConfig(file: string): RawWranglerConfig {
  let text: string;
  try {
    text = readSpecFile(file);
  } catch (e) {
    if (e instanceof CboError) throw e;
    throw new CboError("ERR_NOT_FOUND", `Cannot read wrangler config ${file}.`, {
      hint: "Check the `wrangler:` path; it is relative to orchestrator.yaml.",
    });
  }
  checkTextSize(text, file);
  const raw = parseWranglerText(text, file);
  checkValueSizes(raw, file);
  checkWellFormed(raw, file);
  return raw;
}

export function parseWranglerText(text: string, file: string): RawWranglerConfig {
  let raw: unknown;
  if (file.endsWith(".toml")) {
    try {
      raw = toml().parse(text);
    } catch (e) {
      throw new CboError("ERR_VALIDATION", `${file}: ${(e as Error).message.split("\n")[0]}`);
    }
  } else {
    // A byte order mark (an editor's UTF-8 with BOM), as YAML and TOML take it.
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    checkJsoncDepth(jsonc(), text, file);
    const errors: ParseError[] = [];
    raw = jsonc().parse(text, errors, { allowTrailingComma: true });
    if (errors.length > 0) {
      const e = errors[0]!;
      const line = text.slice(0, e.offset).split("\n").length;
      throw new CboError("ERR_VALIDATION", `${file}:${line}: ${jsonc().printParseErrorCode(e.error)}`);
    }
    checkJsoncDuplicates(jsonc(), text, file);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new CboError("ERR_VALIDATION", `${file}: a wrangler config is an object of keys.`);
  }
  const bad = firstNonJson(raw, "");
  if (bad) {
    throw new CboError("ERR_VALIDATION", `${file}: ${bad}: a TOML date or time is not supported here (wrangler refuses it too).`, {
      hint: 'Quote it as a string, e.g. compatibility_date = "2025-01-01".',
    });
  }
  return raw as RawWranglerConfig;
}

/** The path of the first value that is not plain JSON (smol-toml gives dates as Date objects). */
function firstNonJson(v: unknown, path: string): string | undefined {
  if (v instanceof Date) return path || "(root)";
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const bad = firstNonJson(v[i], `${path}[${i}]`);
      if (bad) return bad;
    }
  } else if (typeof v === "object" && v !== null) {
    for (const [k, x] of Object.entries(v)) {
      const bad = firstNonJson(x, path ? `${path}.${k}` : k);
      if (bad) return bad;
    }
  }
  return undefined;
}
