// Loads orchestrator.yaml into a resolved spec: YAML parsed, validated (errors name the file,
// the path and the fix), wrangler configs read, rollouts merged and waves fixed per worker.
import { readFileSync } from "node:fs";
import { dirname, relative, resolve, isAbsolute } from "node:path";
import { parseDocument } from "yaml";
import type * as z from "zod";
import { CboError } from "../kit/errors.ts";
import { checkFileSize, checkTextSize, checkValueSizes } from "./size-limits.ts";
import { RolloutSchema, SpecSchema, type Gate, type Rollout, type Spec, type Target, type WorkerConfig } from "./schema.ts";
import { readWranglerConfig } from "./wrangler.ts";

export type ResolvedWorker = {
  tenant: string;
  name: string;
  /** Absolute path of the entry module. */
  entry: string;
  /**
   * The Worker's project root: every file its bundle reads must be inside it, or in an installed
   * package (src/deploy/confine.ts). The directory of orchestrator.yaml; for a `wrangler:` worker
   * whose file lies outside that directory, the wrangler file's directory.
   */
  root: string;
  compatibilityDate: string;
  compatibilityFlags: string[];
  vars: Record<string, string>;
  kv: Record<string, string>;
  services: Record<string, string>;
  /** Binding for the version metadata, when asked for. */
  versionMetadata?: string;
  /** Vault secrets the Worker uses (src/deploy/secrets.ts decides what reaches each target). */
  secrets: string[];
  /** Runs the edge agent (gets its bindings). */
  agent: boolean;
  /** Signed agent configuration, when declared. */
  config?: WorkerConfig;
  drift: "report" | "revert";
  /** Target names, in release order (waves flattened). */
  targets: string[];
  waves: string[][];
  steps: number[];
  gate: Gate;
};

export type ResolvedSpec = { tenant: string; file: string; targets: Target[]; workers: ResolvedWorker[] };

const DEFAULT_COMPAT_DATE = "2025-01-01";

/** `orchestrator.yaml: workers[1].rollout.steps: steps must increase…` — one line per problem. */
export function formatIssues(file: string, issues: z.core.$ZodIssue[]): string {
  return issues
    .slice(0, 10)
    .map((i) => {
      const path = i.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("").replace(/^\./, "");
      const msg = i.code === "unrecognized_keys" ? `unknown key${i.keys.length > 1 ? "s" : ""} ${i.keys.map((k) => `"${k}"`).join(", ")} (check the spelling)` : i.message;
      return `${file}: ${path || "(root)"}: ${msg}`;
    })
    .join("\n");
}

export function parseSpec(text: string, file: string): Spec {
  checkTextSize(text, file);
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new CboError("ERR_VALIDATION", `${file}:${e.linePos?.[0]?.line ?? "?"}: ${e.message.split("\n")[0]}`, { hint: "Fix the YAML syntax at that line." });
  }
  let data: unknown;
  try {
    data = doc.toJS();
  } catch (e) {
    // e.g. too many aliases (the yaml library's guard against alias bombs)
    throw new CboError("ERR_VALIDATION", `${file}: ${(e as Error).message.split("\n")[0]}`, { hint: "Write the values out instead of through many aliases." });
  }
  checkValueSizes(data, file);
  const parsed = SpecSchema.safeParse(data);
  if (!parsed.success) {
    throw new CboError("ERR_VALIDATION", formatIssues(file, parsed.error.issues), {
      details: { issues: parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })) },
      hint: "Fix the keys named above; see README (orchestrator.yaml) for every key.",
    });
  }
  return parsed.data;
}

export function resolveSpec(spec: Spec, file: string): ResolvedSpec {
  const base = dirname(resolve(file));
  const workers = spec.workers.map((w): ResolvedWorker => {
    const wranglerFile = w.wrangler ? resolve(base, w.wrangler) : undefined;
    const fromWrangler = wranglerFile ? readWranglerConfig(wranglerFile) : undefined;
    const targets = w.targets ?? spec.targets.map((t) => t.name);
    const rollout: Rollout = RolloutSchema.parse({ ...spec.rollout, ...(w.rollout ?? {}) });
    const waves = (rollout.waves ?? [targets.slice(0, 1), targets.slice(1)])
      .map((wave) => wave.filter((t) => targets.includes(t)))
      .filter((wave) => wave.length > 0);
    const placed = new Set(waves.flat());
    const rest = targets.filter((t) => !placed.has(t));
    if (rest.length > 0) waves.push(rest);
    const vars = { ...(fromWrangler?.vars ?? {}), ...(w.vars ?? {}) };
    return {
      tenant: spec.tenant,
      name: w.name,
      entry: w.main ? resolve(base, w.main) : fromWrangler!.main,
      root: wranglerFile && !within(dirname(wranglerFile), base) ? dirname(wranglerFile) : base,
      compatibilityDate: w.compatibility_date ?? fromWrangler?.compatibilityDate ?? DEFAULT_COMPAT_DATE,
      compatibilityFlags: w.compatibility_flags ?? fromWrangler?.compatibilityFlags ?? [],
      vars: Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, String(v)])),
      kv: { ...(fromWrangler?.kv ?? {}), ...(w.kv ?? {}) },
      services: { ...(fromWrangler?.services ?? {}), ...(w.services ?? {}) },
      ...((w.version_metadata ?? fromWrangler?.versionMetadata) ? { versionMetadata: (w.version_metadata ?? fromWrangler?.versionMetadata)! } : {}),
      targets: waves.flat(),
      secrets: [...(w.secrets ?? [])],
      agent: w.agent ?? (w.config !== undefined || (w.secrets ?? []).length > 0),
      ...(w.config ? { config: w.config } : {}),
      drift: w.drift,
      waves,
      steps: rollout.steps,
      gate: rollout.gate,
    };
  });
  return { tenant: spec.tenant, file: resolve(file), targets: spec.targets, workers };
}

/** Is `dir` the directory `base` or below it (lexically)? */
function within(dir: string, base: string): boolean {
  const rel = relative(base, dir);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

export function loadSpec(file: string): ResolvedSpec {
  checkFileSize(file);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new CboError("ERR_NOT_FOUND", `Cannot read ${file}.`, { hint: "Create orchestrator.yaml, or point at one with --config FILE." });
  }
  return resolveSpec(parseSpec(text, file), file);
}
