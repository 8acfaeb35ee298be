// Module rules as wrangler applies them (deployment-bundle/rules.ts): the user's rules first,
// then the defaults; a later rule of a type already seen is dropped unless the earlier one of
// that type has `fallthrough = true` (dropped rules still match, to refuse the import).
import type { ModuleRule } from "../config/source/model.ts";

export type ModuleType = "esm" | "commonjs" | "compiled-wasm" | "buffer" | "text";

export const DEFAULT_MODULE_RULES: readonly ModuleRule[] = [
  { type: "Text", globs: ["**/*.txt", "**/*.html", "**/*.sql"] },
  { type: "Data", globs: ["**/*.bin"] },
  { type: "CompiledWasm", globs: ["**/*.wasm", "**/*.wasm?module"] },
];

export const RULE_TO_MODULE_TYPE: Record<ModuleRule["type"], ModuleType> = {
  ESModule: "esm",
  CommonJS: "commonjs",
  CompiledWasm: "compiled-wasm",
  Data: "buffer",
  Text: "text",
};

/** The multipart Content-Type of each module type in a version upload. */
export const MODULE_CONTENT_TYPE: Record<ModuleType, string> = {
  esm: "application/javascript+module",
  commonjs: "application/javascript",
  "compiled-wasm": "application/wasm",
  buffer: "application/octet-stream",
  text: "text/plain",
};

export type ParsedRules = { rules: ModuleRule[]; removedRules: ModuleRule[] };

export function parseRules(userRules: readonly ModuleRule[] = []): ParsedRules {
  const rules = [...userRules, ...DEFAULT_MODULE_RULES];
  const completed = new Set<string>();
  const removed: ModuleRule[] = [];
  for (const rule of rules) {
    if (completed.has(rule.type)) removed.push(rule);
    else if (rule.fallthrough !== true) completed.add(rule.type);
  }
  return { rules: rules.filter((r) => !removed.includes(r)), removedRules: removed };
}

export const isJavaScriptModuleRule = (rule: ModuleRule) => rule.type === "ESModule" || rule.type === "CommonJS";
