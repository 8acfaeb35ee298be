// Reads the parts of an existing wrangler.toml / wrangler.json / wrangler.jsonc that a release
// needs, so users keep the file they already have. Unknown wrangler keys are ignored here:
// wrangler owns that file's schema.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { createRequire } from "node:module";
import type { ParseError } from "jsonc-parser";
import * as z from "zod";
import { CboError } from "../kit/errors.ts";
import { checkFileSize, checkTextSize, checkValueSizes } from "./size-limits.ts";

const WranglerSchema = z
  .object({
    name: z.string().min(1),
    main: z.string().min(1),
    compatibility_date: z.string().optional(),
    compatibility_flags: z.array(z.string()).optional(),
    vars: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
    kv_namespaces: z.array(z.object({ binding: z.string(), id: z.string().optional() }).loose()).optional(),
    services: z.array(z.object({ binding: z.string(), service: z.string() }).loose()).optional(),
    version_metadata: z.object({ binding: z.string() }).loose().optional(),
  })
  .loose();

export type WranglerWorker = {
  name: string;
  /** Absolute path of the entry module. */
  main: string;
  compatibilityDate?: string;
  compatibilityFlags: string[];
  vars: Record<string, string | number | boolean>;
  /** Binding -> KV namespace title. Wrangler's ids are per account, so each target gets a namespace titled by the binding. */
  kv: Record<string, string>;
  services: Record<string, string>;
  versionMetadata?: string;
};

// The TOML and JSONC parsers load only when a wrangler config is read (synchronously: Node 24
// can require ES modules), keeping them out of a daemon whose spec names no wrangler file.
const requireLazy = createRequire(import.meta.url);
const toml = () => requireLazy("smol-toml") as typeof import("smol-toml");
const jsonc = () => requireLazy("jsonc-parser") as typeof import("jsonc-parser");

export function readWranglerConfig(file: string): WranglerWorker {
  checkFileSize(file);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new CboError("ERR_NOT_FOUND", `Cannot read wrangler config ${file}.`, { hint: "Check the `wrangler:` path; it is relative to orchestrator.yaml." });
  }
  let raw: unknown;
  if (file.endsWith(".toml")) {
    try {
      raw = toml().parse(text);
    } catch (e) {
      throw new CboError("ERR_VALIDATION", `${file}: ${(e as Error).message.split("\n")[0]}`);
    }
  } else {
    const errors: ParseError[] = [];
    raw = jsonc().parse(text, errors, { allowTrailingComma: true });
    if (errors.length > 0) {
      const e = errors[0]!;
      const line = text.slice(0, e.offset).split("\n").length;
      throw new CboError("ERR_VALIDATION", `${file}:${line}: ${jsonc().printParseErrorCode(e.error)}`);
    }
  }
  checkTextSize(text, file);
  checkValueSizes(raw, file);
  const parsed = WranglerSchema.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new CboError("ERR_VALIDATION", `${file}: ${i.path.join(".") || "(root)"}: ${i.message}`, { hint: "A wrangler config used for releases needs `name` and `main`." });
  }
  const w = parsed.data;
  return {
    name: w.name,
    main: resolve(dirname(file), w.main),
    ...(w.compatibility_date ? { compatibilityDate: w.compatibility_date } : {}),
    compatibilityFlags: w.compatibility_flags ?? [],
    vars: w.vars ?? {},
    kv: Object.fromEntries((w.kv_namespaces ?? []).map((k) => [k.binding, k.binding.toLowerCase()])),
    services: Object.fromEntries((w.services ?? []).map((s) => [s.binding, s.service])),
    ...(w.version_metadata ? { versionMetadata: w.version_metadata.binding } : {}),
  };
}
