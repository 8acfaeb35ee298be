// One orchestrator.yaml worker -> its WorkerSource per target. A `wrangler:` worker is read once
// per wrangler environment its targets use; `env:` picks it:
//
//   env: production                       every target releases [env.production]
//   env: { "*": production, ap: staging } ap releases [env.staging], the others production
//   env: { eu: production }               eu releases production, the others the top level
//   (no env)                              every target releases the file's top level
//
// `name:` in orchestrator.yaml is the script name in every target (like `wrangler --name`);
// without it each target gets the file's name for its environment (`env.X.name` or
// `<name>-<X>`), and the worker is known to the orchestrator by its default environment's name
// (the `env:` string, else `"*"`, else the first target's).
import { dirname, resolve } from "node:path";
import { CboError } from "../../kit/errors.ts";
import type { WorkerSpec } from "../schema.ts";
import { readRawWranglerConfig, wranglerSourceFromRaw } from "../wrangler/index.ts";
import { applySpecKeys, emptySource, type SpecContext } from "./from-spec.ts";
import type { WorkerSource } from "./model.ts";
import { applyResourceOverrides } from "./resources.ts";
import { checkVarSizes } from "./var-sizes.ts";

const NAME = /^[a-z][a-z0-9-]{0,62}$/;
/** The compatibility date of a worker that gives none (wrangler refuses to deploy without one). */
export const DEFAULT_COMPAT_DATE = "2025-01-01";

export type WorkerSources = {
  /** The name the orchestrator knows the worker by. */
  name: string;
  /** The default environment's source. */
  source: WorkerSource;
  /** Each target's source (the same object for targets that share an environment). */
  sources: Record<string, WorkerSource>;
  /** The wrangler file, absolute, for a `wrangler:` worker. */
  wranglerFile?: string;
};

/** The wrangler environment a target releases (undefined = the top level). */
export function envForTarget(env: WorkerSpec["env"], target: string | undefined): string | undefined {
  if (env === undefined || typeof env === "string") return env;
  return (target !== undefined ? env[target] : undefined) ?? env["*"];
}

export function resolveWorkerSources(w: WorkerSpec, index: number, targets: string[], file: string): WorkerSources {
  const dir = dirname(resolve(file));
  const ctx: SpecContext = { file: resolve(file), dir, where: `workers[${index}]` };
  const wranglerFile = w.wrangler ? resolve(dir, w.wrangler) : undefined;
  const raw = wranglerFile ? readRawWranglerConfig(wranglerFile) : undefined;
  const byEnv = new Map<string, WorkerSource>();
  const sourceFor = (env: string | undefined): WorkerSource => {
    const key = env ?? "";
    const cached = byEnv.get(key);
    if (cached) return cached;
    let s =
      raw && wranglerFile ? wranglerSourceFromRaw(raw, wranglerFile, env !== undefined ? { env } : {}) : emptySource(w.name!, w.main!, ctx);
    s = applySpecKeys(s, w, ctx);
    if (w.name) s = { ...s, name: w.name };
    // The date the release uploads is the date the bundle is built for (nodejs_compat, navigator).
    if (!s.compatibilityDate)
      s = {
        ...s,
        compatibilityDate: DEFAULT_COMPAT_DATE,
        warnings: [...s.warnings, `no compatibility_date: ${DEFAULT_COMPAT_DATE} is used (wrangler refuses to deploy without one)`],
      };
    s = applyResourceOverrides(s, w.resources ?? {}, `${ctx.file}: ${ctx.where}`);
    if (!NAME.test(s.name)) {
      throw new CboError(
        "ERR_VALIDATION",
        `${ctx.file}: ${ctx.where}: the Worker name "${s.name}"${wranglerFile ? ` (from ${wranglerFile}${env ? `, env ${env}` : ""})` : ""} is not one the orchestrator takes: use lowercase letters, digits and dashes, starting with a letter.`,
        {
          hint: "Give the worker a `name:` in orchestrator.yaml.",
        },
      );
    }
    // A var orchestrator.yaml gives replaces the wrangler file's: only the file's are "from" it.
    checkVarSizes(s, `${ctx.file}: ${ctx.where}`, (v) =>
      wranglerFile && !Object.hasOwn(w.vars ?? {}, v) ? ` (from ${wranglerFile}${env ? `, env ${env}` : ""})` : "",
    );
    byEnv.set(key, s);
    return s;
  };
  const defaultEnv =
    typeof w.env === "object" && w.env["*"] === undefined ? envForTarget(w.env, targets[0]) : envForTarget(w.env, undefined);
  const source = sourceFor(defaultEnv);
  const sources = Object.fromEntries(targets.map((t) => [t, sourceFor(envForTarget(w.env, t))]));
  return { name: w.name ?? source.name, source, sources, ...(wranglerFile ? { wranglerFile } : {}) };
}
