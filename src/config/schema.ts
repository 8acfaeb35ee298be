// The desired state, `orchestrator.yaml`. Strict objects: a misspelt key fails with its path.
// Names follow Cloudflare's rules so that a spec that validates can be released.
import * as z from "zod";
import { BackupSpecSchema } from "./backup.ts";
import { LogsSpecSchema } from "./logs-schema.ts";
import { WindowsSchema } from "./windows-schema.ts";
import { WorkerSourceSpecShape } from "./source/spec-keys.ts";

const NAME = /^[a-z][a-z0-9-]{0,62}$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

export const GateSchema = z
  .object({
    /** Path probed on the new version (pinned with Cloudflare-Workers-Version-Overrides). */
    probe_path: z.string().startsWith("/", "must start with /").default("/"),
    interval_ms: z.number().int().min(20).max(60_000).default(200),
    timeout_ms: z.number().int().min(50).max(60_000).default(2_000),
    /** Consecutive failed probes that fail the gate at once. */
    failure_limit: z.number().int().min(1).max(1_000).default(3),
    /** Share of failed probes over the bake that fails the gate. */
    max_error_rate: z.number().min(0).max(1).default(0.05),
    /** How long each step is watched before it passes. */
    bake_ms: z.number().int().min(0).max(3_600_000).default(2_000),
    /** Probes needed before the error rate is judged. */
    min_samples: z.number().int().min(1).max(100_000).default(8),
  })
  .strict();
export type Gate = z.infer<typeof GateSchema>;

/**
 * Canary analysis of every step (src/deploy/analysis): the new version against the previous one on
 * real traffic, from the targets' invocation analytics (GraphQL workersInvocationsAdaptive).
 */
export const AnalysisSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** How often a gate reads the analytics while a step runs (with a lag, only when a new minute shows). */
    interval_ms: z.number().int().min(100).max(600_000).default(1_000),
    /** How late the analytics show a minute; null: 0 on the local edge, 300 s on Cloudflare. */
    lag_sec: z.number().min(0).max(3_600).nullable().default(null),
    /** The baseline's window starts this long before the step (at 100% it serves nothing new). */
    baseline_lookback_sec: z.number().int().min(0).max(86_400).default(300),
    /** Requests each version needs in its window before any rule is judged (else: inconclusive). */
    min_requests: z.number().int().min(1).max(10_000_000).default(50),
    /** One-sided significance level of the error-rate test. */
    alpha: z.number().gt(0).max(0.5).default(0.01),
    /** Absolute floor: the canary's error rate must exceed the baseline's by more than this to fail. */
    min_error_rate_increase: z.number().min(0).max(1).default(0.01),
    max_p50_ratio: z.number().min(1).max(1_000).default(1.5),
    max_p99_ratio: z.number().min(1).max(1_000).default(2),
    /** Absolute floor: a latency must be this many ms above the baseline's to fail its ratio. */
    min_latency_increase_ms: z.number().min(0).max(600_000).default(50),
    /** Too little traffic: wait for more (up to max_wait_ms, then fail), pass, or fail the step. */
    on_inconclusive: z.enum(["wait", "pass", "fail"]).default("pass"),
    max_wait_ms: z.number().int().min(0).max(86_400_000).default(60_000),
  })
  .strict();
export type Analysis = z.infer<typeof AnalysisSchema>;

/** `10m`, `90s`, `1h`: a timed pause's length. */
const PAUSE_DURATION = /^(\d{1,6})(s|m|h)$/;
export const PauseStepSchema = z
  .object({
    pause: z.union([
      z.literal("approve"),
      z.string().regex(PAUSE_DURATION, 'use "approve" or a duration like 90s, 10m, 1h'),
      z.number().int().min(0).max(604_800).describe("seconds"),
    ]),
  })
  .strict();
export type PauseStep = z.infer<typeof PauseStepSchema>;

/** A pause step's wait: "approve", or its length in ms. */
export function pauseOf(step: PauseStep): "approve" | { ms: number } {
  if (step.pause === "approve") return "approve";
  if (typeof step.pause === "number") return { ms: step.pause * 1000 };
  const m = PAUSE_DURATION.exec(step.pause)!;
  return { ms: Number(m[1]) * { s: 1_000, m: 60_000, h: 3_600_000 }[m[2] as "s" | "m" | "h"] };
}

const StepsSchema = z.array(z.union([z.number().gt(0).max(100), PauseStepSchema])).min(1);

export const RolloutSchema = z
  .object({
    /** Target names per wave, canary wave first. Default: the first target, then all the others. */
    waves: z
      .array(z.array(z.string().regex(NAME)).min(1))
      .min(1)
      .optional(),
    /**
     * Traffic percentages per step within a target; increasing, ending at 100. Between two, a
     * `{pause: approve}` waits for `cbo release promote`, a `{pause: 10m}` waits that long.
     */
    steps: StepsSchema.default([10, 50, 100]),
    gate: GateSchema.default(GateSchema.parse({})),
    /** Opt in to releases that cannot be gradual (Durable Object migrations: 100% per target, one at a time). */
    allow_non_gradual: z.boolean().default(false),
    analysis: AnalysisSchema.default(AnalysisSchema.parse({})),
  })
  .strict();
export type Rollout = z.infer<typeof RolloutSchema>;

/**
 * A worker's `rollout:`: only the keys it names override the spec's rollout, so none has a default
 * here (with RolloutSchema.partial() the defaults filled every key a worker left out, and
 * `rollout: {allow_non_gradual: true}` reset its steps and gate to the defaults). A key it names is
 * taken whole, `gate` and `analysis` with their own defaults for what they leave out.
 */
export const WorkerRolloutSchema = z
  .object({
    waves: RolloutSchema.shape.waves,
    steps: StepsSchema.optional(),
    gate: GateSchema.optional(),
    allow_non_gradual: z.boolean().optional(),
    analysis: AnalysisSchema.optional(),
  })
  .strict();

export const TargetSchema = z
  .object({
    name: z.string().regex(NAME, "use lowercase letters, digits and dashes, starting with a letter"),
    /** `local` (the embedded local edge) or a Cloudflare API base URL. */
    api: z.union([z.literal("local"), z.url()]).default("local"),
    /** A Cloudflare target's account (default: CLOUDFLARE_ACCOUNT_ID); for `local` it is looked up from the region. */
    account_id: z
      .string()
      .regex(/^[0-9a-f]{32}$/, "must be 32 lowercase hex characters")
      .optional(),
    /** Local edge region; default: the target's name. */
    region: z.string().regex(NAME).optional(),
    /** Data-sovereignty tag, e.g. `eu`. */
    jurisdiction: z.string().min(1).optional(),
    /** KV namespace title used for this target's config (created when missing). */
    kv_namespace: z.string().min(1).optional(),
    /**
     * A Cloudflare target's own API token: the name of the vault secret holding it (fleets spread
     * over several accounts); default: the daemon's CLOUDFLARE_API_TOKEN.
     */
    api_token_secret: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/, "a secret name has letters, digits, _ . or -, starting with a letter or _")
      .optional(),
  })
  .strict();
export type Target = z.infer<typeof TargetSchema>;

const JsonObject = z.record(z.string(), z.json());

/**
 * Configuration the edge agent serves to the Worker, signed per target: `values`, then the
 * override for the target's jurisdiction, then the target's own override (deep-merged, objects
 * only; arrays and scalars replace).
 */
export const WorkerConfigSchema = z
  .object({
    values: JsonObject.default({}),
    jurisdictions: z.record(z.string().regex(/^[a-z][a-z0-9-]{0,31}$/), JsonObject).optional(),
    targets: z.record(z.string().regex(NAME), JsonObject).optional(),
  })
  .strict();
export type WorkerConfig = z.infer<typeof WorkerConfigSchema>;

export const WorkerSpecSchema = z
  .object({
    /**
     * The Worker's name (its script name in every target). Optional with `wrangler:`: the file's
     * name for the selected environment (`env.X.name`, or `<name>-<X>`) is used.
     */
    name: z.string().regex(NAME, "use lowercase letters, digits and dashes, starting with a letter").optional(),
    /** Entry module (bundled with esbuild), relative to orchestrator.yaml. */
    main: z.string().min(1).optional(),
    /** An existing wrangler.toml / wrangler.json(c), relative to orchestrator.yaml. */
    wrangler: z.string().min(1).optional(),
    compatibility_date: z.string().regex(DATE, "use YYYY-MM-DD").optional(),
    compatibility_flags: z.array(z.string()).optional(),
    /**
     * Bindings, resources, triggers, script settings and bundling keys (vars, kv, d1, r2, queues,
     * durable_objects, migrations, services, analytics_engine, ai, hyperdrive, ratelimits,
     * version_metadata, assets, crons, routes, …, env, build, resources): source/spec-keys.ts.
     */
    ...WorkerSourceSpecShape,
    /**
     * Vault secrets this Worker uses, by name. A `binding` secret ships inside each released version
     * (as a Workers secret of the same name); a `relay` secret is fetched at run time. Either only
     * reaches targets its jurisdiction tags allow.
     */
    secrets: z
      .array(
        z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/, "a secret name has letters, digits, _ . or -, starting with a letter or _"),
      )
      .optional(),
    /** Signed configuration for the edge agent (cbo config publish). */
    config: WorkerConfigSchema.optional(),
    /**
     * Does the Worker run the edge agent (clawdbot-orchestrator/edge)? It then gets the agent's
     * bindings (identity, keys, the config KV namespace). Default: when it has `config` or secrets.
     */
    agent: z.boolean().optional(),
    /** What to do when a target runs something other than what was released: report, or put it back. */
    drift: z.enum(["report", "revert"]).default("report"),
    /** Targets this Worker runs in; default: all. */
    targets: z.array(z.string().regex(NAME)).min(1).optional(),
    rollout: WorkerRolloutSchema.optional(),
  })
  .strict();
export type WorkerSpec = z.infer<typeof WorkerSpecSchema>;

export const SpecSchema = z
  .object({
    version: z.literal(1).default(1),
    tenant: z.string().regex(NAME).default("default"),
    targets: z.array(TargetSchema).min(1, "declare at least one target"),
    workers: z.array(WorkerSpecSchema).default([]),
    rollout: RolloutSchema.default(RolloutSchema.parse({})),
    /** Scheduled encrypted backups of the daemon's state (src/config/backup.ts); none without it. */
    backup: BackupSpecSchema.optional(),
    /** Fleet logs: which Workers' logs are kept locally and shipped redacted (logs-schema.ts). */
    logs: LogsSpecSchema.optional(),
    /** When releases may start (windows-schema.ts); none: always. */
    windows: WindowsSchema.optional(),
  })
  .strict()
  .superRefine((spec, ctx) => {
    const targets = new Set<string>();
    spec.targets.forEach((t, i) => {
      if (targets.has(t.name))
        ctx.addIssue({ code: "custom", path: ["targets", i, "name"], message: `target "${t.name}" is declared twice` });
      targets.add(t.name);
      // A Cloudflare target without account_id takes CLOUDFLARE_ACCOUNT_ID when the daemon starts (targets/build.ts).
      if (t.api === "local" && t.api_token_secret !== undefined)
        ctx.addIssue({
          code: "custom",
          path: ["targets", i, "api_token_secret"],
          message: "a target on the local edge uses the edge's token; api_token_secret is for Cloudflare targets",
        });
    });
    const workers = new Set<string>();
    spec.workers.forEach((w, i) => {
      // Names taken from wrangler files are checked once they are read (load.ts).
      if (w.name !== undefined) {
        if (workers.has(w.name))
          ctx.addIssue({ code: "custom", path: ["workers", i, "name"], message: `worker "${w.name}" is declared twice` });
        workers.add(w.name);
      }
      if (!w.main === !w.wrangler)
        ctx.addIssue({
          code: "custom",
          path: ["workers", i],
          message: "give exactly one of `main` (an entry file) or `wrangler` (a wrangler config file)",
        });
      if (w.main && !w.name)
        ctx.addIssue({ code: "custom", path: ["workers", i, "name"], message: "a worker given by `main` needs a name" });
      if (w.main && w.env !== undefined)
        ctx.addIssue({
          code: "custom",
          path: ["workers", i, "env"],
          message: "`env` picks an environment of a wrangler file; this worker has none (it is given by `main`)",
        });
      if (typeof w.env === "object") {
        for (const t of Object.keys(w.env)) {
          if (t !== "*" && !targets.has(t))
            ctx.addIssue({
              code: "custom",
              path: ["workers", i, "env", t],
              message: `unknown target "${t}" (use a target name, or "*" for the others)`,
            });
        }
      }
      w.targets?.forEach((t, j) => {
        if (!targets.has(t))
          ctx.addIssue({
            code: "custom",
            path: ["workers", i, "targets", j],
            message: `unknown target "${t}" (declared: ${[...targets].join(", ")})`,
          });
      });
      if (w.rollout) checkRollout(w.rollout, ["workers", i, "rollout"], targets, ctx);
      if (w.config) {
        for (const t of Object.keys(w.config.targets ?? {})) {
          if (!targets.has(t))
            ctx.addIssue({ code: "custom", path: ["workers", i, "config", "targets", t], message: `unknown target "${t}"` });
        }
        const size = JSON.stringify(w.config).length;
        if (size > 256 * 1024)
          ctx.addIssue({
            code: "custom",
            path: ["workers", i, "config"],
            message: `config is ${size} bytes; keep it under 256 KiB (it is signed into every target's bundle)`,
          });
      }
      const names = new Set<string>();
      w.secrets?.forEach((n, j) => {
        if (names.has(n)) ctx.addIssue({ code: "custom", path: ["workers", i, "secrets", j], message: `secret "${n}" is listed twice` });
        if (n.startsWith("__") || n.startsWith("CBO_"))
          ctx.addIssue({
            code: "custom",
            path: ["workers", i, "secrets", j],
            message: `names starting with "__" or "CBO_" are reserved for the orchestrator`,
          });
        if (specBindingNames(w).has(n))
          ctx.addIssue({ code: "custom", path: ["workers", i, "secrets", j], message: `"${n}" is already a binding of this worker` });
        names.add(n);
      });
    });
    checkRollout(spec.rollout, ["rollout"], targets, ctx);
    // A Cloudflare API token is the orchestrator's: never shipped to a Worker.
    const tokens = new Set(spec.targets.flatMap((t) => (t.api_token_secret ? [t.api_token_secret] : [])));
    spec.workers.forEach((w, i) =>
      w.secrets?.forEach((n, j) => {
        if (tokens.has(n))
          ctx.addIssue({
            code: "custom",
            path: ["workers", i, "secrets", j],
            message: `"${n}" holds a target's Cloudflare API token (api_token_secret); it is never given to a Worker`,
          });
      }),
    );
  });
export type Spec = z.infer<typeof SpecSchema>;

/** The binding names a worker declares in orchestrator.yaml (a wrangler file's are checked when read). */
function specBindingNames(w: WorkerSpec): Set<string> {
  const maps = [
    w.vars,
    w.kv,
    w.services,
    w.d1,
    w.r2,
    w.queues?.producers,
    w.durable_objects,
    w.analytics_engine,
    w.hyperdrive,
    w.ratelimits,
  ];
  const singles = [w.ai, w.version_metadata, w.assets?.binding];
  return new Set([...maps.flatMap((m) => Object.keys(m ?? {})), ...singles.filter((b): b is string => b !== undefined)]);
}

function checkRollout(r: Partial<Rollout>, path: (string | number)[], targets: Set<string>, ctx: z.RefinementCtx): void {
  if (r.steps) {
    const percents = r.steps.filter((s): s is number => typeof s === "number");
    const ok = percents.length > 0 && percents.every((s, i) => i === 0 || s > percents[i - 1]!) && percents[percents.length - 1] === 100;
    if (!ok) ctx.addIssue({ code: "custom", path: [...path, "steps"], message: "steps must increase and end at 100, e.g. [10, 50, 100]" });
    r.steps.forEach((s, i) => {
      if (typeof s === "number") return;
      const prev = r.steps![i - 1];
      if (typeof prev !== "number")
        ctx.addIssue({
          code: "custom",
          path: [...path, "steps", i],
          message: "a pause follows a traffic step, e.g. [10, {pause: approve}, 50, 100]",
        });
      else if (prev === 100)
        ctx.addIssue({
          code: "custom",
          path: [...path, "steps", i],
          message: "a pause after 100% holds nothing; put it before the 100% step",
        });
    });
  }
  const seen = new Set<string>();
  r.waves?.forEach((wave, i) =>
    wave.forEach((t, j) => {
      if (!targets.has(t)) ctx.addIssue({ code: "custom", path: [...path, "waves", i, j], message: `unknown target "${t}"` });
      if (seen.has(t)) ctx.addIssue({ code: "custom", path: [...path, "waves", i, j], message: `target "${t}" is in more than one wave` });
      seen.add(t);
    }),
  );
}
