// Loads orchestrator.yaml into a resolved spec: YAML parsed, validated (errors name the file,
// the path and the fix), wrangler configs read, rollouts merged and waves fixed per worker.
import { dirname, relative, resolve, isAbsolute } from "node:path";
import { parseDocument } from "yaml";
import type * as z from "zod";
import { CboError } from "../kit/errors.ts";
import { durationMs, type BackupSchedule } from "./backup.ts";
import { checkTextSize, checkValueSizes, readSpecFile } from "./size-limits.ts";
import { checkWellFormed } from "./well-formed.ts";
import { keysAt } from "./schema-keys.ts";
import { closest } from "../kit/did-you-mean.ts";
import type { ResolvedLogs } from "./logs-schema.ts";
import type { Windows } from "./windows-schema.ts";
import {
  pauseOf,
  RolloutSchema,
  SpecSchema,
  type Analysis,
  type Gate,
  type Rollout,
  type Spec,
  type Target,
  type WorkerConfig,
} from "./schema.ts";
import type { WorkerSource } from "./source/model.ts";
import { shareSameIds } from "./source/resources.ts";
import { DEFAULT_COMPAT_DATE, resolveWorkerSources } from "./source/resolve.ts";

export type ResolvedWorker = {
  tenant: string;
  name: string;
  /** Absolute path of the entry module (empty for an assets-only Worker). */
  entry: string;
  /**
   * The Worker's project root: every file its bundle reads must be inside it, or in an installed
   * package (src/build/confine.ts). The directory of orchestrator.yaml; for a `wrangler:` worker
   * whose file lies outside that directory, the wrangler file's directory.
   */
  root: string;
  compatibilityDate: string;
  compatibilityFlags: string[];
  /** Plain-text vars as today's release uploads them (a JSON var as its JSON text); `source.vars` keeps the values. */
  vars: Record<string, string>;
  /** Binding -> KV namespace logical name (`source` has every binding kind). */
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
  /** The rollout opts in to non-gradual releases (Durable Object migrations); default false. */
  allowNonGradual?: boolean;
  /** `pause:` steps, by the percentage they follow (absent or empty: none). */
  pauses?: Array<{ after: number; pause: "approve" | { ms: number } }>;
  /** Canary analysis of every step (absent: off, for hand-made test workers). */
  analysis?: Analysis;
  /**
   * The Worker as its default environment describes it (src/config/source/model.ts): every
   * binding, resource, trigger, setting and build key. Set by resolveSpec; optional only so
   * hand-made test workers need not carry it.
   */
  source?: WorkerSource;
  /** Each target's source (a `wrangler:` worker's `env:` may pick a different environment per target). */
  sources?: Record<string, WorkerSource>;
};

export type ResolvedSpec = {
  tenant: string;
  file: string;
  targets: Target[];
  workers: ResolvedWorker[];
  /** `backup:`, its directory resolved against the file's; read when the daemon starts. */
  backup?: BackupSchedule;
  /** Fleet logs (`logs:`), with `workers` resolved to names; absent: no logs kept or shipped. */
  logs?: ResolvedLogs;
  /** `windows:`: when releases may start (absent: always). */
  windows?: Windows;
};

/** `orchestrator.yaml: workers[1].rollout.steps: steps must increase…` — one line per problem. */
export function formatIssues(file: string, issues: z.core.$ZodIssue[], schema?: z.ZodType): string {
  return issues
    .slice(0, 10)
    .map((i) => {
      const path = i.path
        .map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`))
        .join("")
        .replace(/^\./, "");
      const msg = i.code === "unrecognized_keys" ? unknownKeys(i.keys, schema ? keysAt(schema, i.path) : []) : i.message;
      return `${file}: ${path || "(root)"}: ${msg}`;
    })
    .join("\n");
}

/** `unknown key "varz" (did you mean "vars"?)`: a close match among the keys the object knows, else a nudge. */
function unknownKeys(keys: string[], known: string[]): string {
  // YAML 1.1's merge key: YAML 1.2 (what the spec is read as) has none, so it arrives as a key.
  if (keys.includes("<<")) return 'a YAML merge key "<<" is not supported: write the keys out (an alias of a whole value, `*name`, works)';
  const meant = keys.flatMap((k) => {
    const c = closest(k, known);
    return c ? [keys.length > 1 ? `"${k}" -> "${c}"` : `"${c}"`] : [];
  });
  const why = meant.length ? `did you mean ${meant.join(", ")}?` : "check the spelling";
  return `unknown key${keys.length > 1 ? "s" : ""} ${keys.map((k) => `"${k}"`).join(", ")} (${why})`;
}

export function parseSpec(text: string, file: string): Spec {
  checkTextSize(text, file);
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    // The parser's stack ran out: said as what the file does, not as the engine's words.
    const deep = e.message.startsWith("Maximum call stack size exceeded");
    const what = deep
      ? "values are nested too deeply here (lists or maps inside each other hundreds of levels down)"
      : e.message.split("\n")[0];
    throw new CboError("ERR_VALIDATION", `${file}:${e.linePos?.[0]?.line ?? "?"}: ${what}`, {
      hint: deep ? "Flatten the value: a spec needs a few levels of nesting at most." : "Fix the YAML syntax at that line.",
    });
  }
  let data: unknown;
  try {
    data = doc.toJS();
  } catch (e) {
    // e.g. too many aliases (the yaml library's guard against alias bombs)
    throw new CboError("ERR_VALIDATION", `${file}: ${(e as Error).message.split("\n")[0]}`, {
      hint: "Write the values out instead of through many aliases.",
    });
  }
  checkValueSizes(data, file);
  checkWellFormed(data, file);
  const parsed = SpecSchema.safeParse(data);
  if (!parsed.success) {
    throw new CboError("ERR_VALIDATION", formatIssues(file, parsed.error.issues, SpecSchema), {
      details: { issues: parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })) },
      hint: "Fix the keys named above; see README (orchestrator.yaml) for every key.",
    });
  }
  return parsed.data;
}

export function resolveSpec(spec: Spec, file: string): ResolvedSpec {
  const base = dirname(resolve(file));
  const workers = spec.workers.map((w, i): ResolvedWorker => {
    const targets = w.targets ?? spec.targets.map((t) => t.name);
    const rollout: Rollout = RolloutSchema.parse({ ...spec.rollout, ...(w.rollout ?? {}) });
    const waves = (rollout.waves ?? [targets.slice(0, 1), targets.slice(1)])
      .map((wave) => wave.filter((t) => targets.includes(t)))
      .filter((wave) => wave.length > 0);
    const placed = new Set(waves.flat());
    const rest = targets.filter((t) => !placed.has(t));
    if (rest.length > 0) waves.push(rest);
    const { name, source, sources, wranglerFile } = resolveWorkerSources(w, i, waves.flat(), file);
    const bindings = source.bindings;
    const versionMetadata = bindings.find((b) => b.kind === "version_metadata")?.binding;
    return {
      tenant: spec.tenant,
      name,
      entry: source.main ?? "",
      root: wranglerFile && !within(dirname(wranglerFile), base) ? dirname(wranglerFile) : base,
      compatibilityDate: source.compatibilityDate ?? DEFAULT_COMPAT_DATE,
      compatibilityFlags: source.compatibilityFlags,
      vars: Object.fromEntries(
        Object.entries(source.vars).map(([k, v]) => [
          k,
          typeof v === "string" ? v : typeof v === "object" && v !== null ? JSON.stringify(v) : String(v),
        ]),
      ),
      kv: Object.fromEntries(bindings.flatMap((b) => (b.kind === "kv" ? [[b.binding, b.resource.name]] : []))),
      services: Object.fromEntries(bindings.flatMap((b) => (b.kind === "service" ? [[b.binding, b.service]] : []))),
      ...(versionMetadata ? { versionMetadata } : {}),
      targets: waves.flat(),
      secrets: [...(w.secrets ?? [])],
      agent: w.agent ?? (w.config !== undefined || (w.secrets ?? []).length > 0),
      ...(w.config ? { config: w.config } : {}),
      drift: w.drift,
      waves,
      steps: rollout.steps.filter((s): s is number => typeof s === "number"),
      gate: rollout.gate,
      allowNonGradual: rollout.allow_non_gradual,
      pauses: pausesOf(rollout.steps),
      analysis: rollout.analysis,
      source,
      sources,
    };
  });
  const seen = new Map<string, number>();
  workers.forEach((w, i) => {
    const before = seen.get(w.name);
    if (before !== undefined) {
      throw new CboError("ERR_VALIDATION", `${file}: workers[${i}]: worker "${w.name}" is declared twice (also workers[${before}]).`, {
        hint: "A wrangler file supplies its name; give one of them a different `name:` in orchestrator.yaml.",
      });
    }
    seen.set(w.name, i);
  });
  // Resources named after the same wrangler id are one resource, whichever worker binds them.
  shareSameIds(workers.flatMap((w) => [...new Set([w.source!, ...Object.values(w.sources!)])]));
  for (const w of workers)
    w.kv = Object.fromEntries(w.source!.bindings.flatMap((b) => (b.kind === "kv" ? [[b.binding, b.resource.name]] : [])));
  const backup: BackupSchedule | undefined = spec.backup && {
    everyMs: durationMs(spec.backup.every)!,
    keep: spec.backup.keep,
    ...(spec.backup.dir ? { dir: resolve(base, spec.backup.dir) } : {}),
  };
  const logs = spec.logs ? resolveLogs(spec.logs, workers, file) : undefined;
  return {
    tenant: spec.tenant,
    file: resolve(file),
    targets: spec.targets,
    workers,
    ...(backup ? { backup } : {}),
    ...(logs ? { logs } : {}),
    ...(spec.windows ? { windows: spec.windows } : {}),
  };
}

/** `logs.workers` against the workers' names (a wrangler file's included, known only now). */
function resolveLogs(logs: NonNullable<Spec["logs"]>, workers: ResolvedWorker[], file: string): ResolvedLogs {
  const names = workers.map((w) => w.name);
  if (logs.workers !== "*") {
    logs.workers.forEach((n, i) => {
      if (!names.includes(n))
        throw new CboError(
          "ERR_VALIDATION",
          `${file}: logs.workers[${i}]: unknown worker "${n}" (declared: ${names.join(", ") || "none"})`,
          {
            hint: 'Name workers of this file, or "*" for all.',
          },
        );
    });
  }
  return {
    keepMs: logs.keep,
    maxBytes: logs.max_mib * 1024 * 1024,
    workers: logs.workers === "*" ? names : [...new Set(logs.workers)],
    ...(logs.ship ? { ship: logs.ship } : {}),
  };
}

/** Is `dir` the directory `base` or below it (lexically)? */
function within(dir: string, base: string): boolean {
  const rel = relative(base, dir);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

export function loadSpec(file: string): ResolvedSpec {
  let text: string;
  try {
    text = readSpecFile(file);
  } catch (e) {
    if (e instanceof CboError) throw e;
    throw new CboError("ERR_NOT_FOUND", `Cannot read ${file}.`, { hint: "Create orchestrator.yaml, or point at one with --config FILE." });
  }
  return resolveSpec(parseSpec(text, file), file);
}

/** Each `pause:` step with the traffic step before it (the schema checks there is one). */
function pausesOf(steps: Rollout["steps"]): NonNullable<ResolvedWorker["pauses"]> {
  return steps.flatMap((s, i) => {
    const prev = steps[i - 1];
    return typeof s === "number" || typeof prev !== "number" ? [] : [{ after: prev, pause: pauseOf(s) }];
  });
}
