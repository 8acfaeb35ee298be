// Selects one environment of a wrangler file the way wrangler does (unstable_readConfig with
// `env`): inheritable keys fall back to the top level, per-environment keys come only from
// `[env.X]`, and the name is `env.X.name` or `<name>-<X>`. Every key is checked against the
// table in keys.ts: unknown keys and keys the orchestrator cannot honour are refused with their
// path, dev-only keys are set aside with the reason.
//
// Where this is stricter than wrangler (and why):
//   - an environment the file does not define is refused (wrangler warns and deploys the top
//     level under `<name>-<X>`, shipping the top-level bindings: the bug this reader fixes);
//   - an unknown key, or a top-level-only key inside `[env.X]`, is refused (wrangler warns and
//     ignores it, so a misspelt binding key would silently deploy without that binding).
import { closest } from "../../kit/did-you-mean.ts";
import { WRANGLER_KEYS, isEmptyValue, type KeyRule } from "./keys.ts";
import type { RawWranglerConfig } from "./parse.ts";

/** A key's effective value and where it was written (for messages). */
export type Located = { value: unknown; path: string };

export type SelectedEnvironment = {
  /** The selected environment, if any. */
  env: string | undefined;
  /** The top-level `name` as written. */
  topLevelName: string | undefined;
  definedEnvironments: string[];
  /** Effective value of every key the reader reads (keys.ts `read`), when present. */
  values: Map<string, Located>;
  warnings: string[];
  ignored: { key: string; reason: string }[];
  /** Problems that refuse the file: `<path>: <what and what to do>`. */
  refusals: string[];
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export function selectEnvironment(raw: RawWranglerConfig, env: string | undefined): SelectedEnvironment {
  const refusals: string[] = [];
  const warnings: string[] = [];
  const ignored: { key: string; reason: string }[] = [];
  const envs = raw["env"];
  if (envs !== undefined && !isObject(envs)) refusals.push(`env: should be a table of environments, e.g. [env.production]`);
  const definedEnvironments = isObject(envs) ? Object.keys(envs) : [];

  for (const key of Object.keys(raw)) {
    if (key === "env") continue;
    if (!WRANGLER_KEYS[key]) refusals.push(unknownKey(key, closest(key, [...Object.keys(WRANGLER_KEYS), "env"])));
  }

  let rawEnv: Record<string, unknown> | undefined;
  if (env !== undefined) {
    const found = isObject(envs) ? envs[env] : undefined;
    if (found === undefined) {
      refusals.push(
        `env.${env}: no such environment in this file (${definedEnvironments.length ? `defined: ${definedEnvironments.join(", ")}` : "it defines none"}); add [env.${env}], or pick another with \`env:\` in orchestrator.yaml`,
      );
    } else if (!isObject(found)) {
      refusals.push(`env.${env}: should be a table of keys`);
    } else {
      rawEnv = found;
      for (const key of Object.keys(found)) {
        const rule = WRANGLER_KEYS[key];
        if (!rule) refusals.push(unknownKey(`env.${env}.${key}`, closest(key, ENV_KEYS)));
        else if (rule.scope === "top")
          refusals.push(`env.${env}.${key}: wrangler reads \`${key}\` only at the top level and ignores it here; move it to the top level`);
      }
    }
  }

  const values = new Map<string, Located>();
  const prefix = env !== undefined ? `env.${env}.` : "";
  for (const [key, rule] of Object.entries(WRANGLER_KEYS)) {
    const found = effective(key, rule, raw, rawEnv, env, prefix);
    if (rule.scope === "env" && env !== undefined && rawEnv !== undefined && rawEnv[key] === undefined && !isEmptyValue(raw[key])) {
      warnings.push(
        `"${key}" exists at the top level, but not on "env.${env}": it is not inherited, so env.${env} has none (add "${key}" to [env.${env}] if it should)`,
      );
    }
    if (!found) continue;
    if (rule.do === "read") values.set(key, found);
    else if (rule.do === "ignore") ignored.push({ key: found.path, reason: rule.why });
    else if (!isEmptyValue(found.value)) refusals.push(`${found.path}: ${rule.why} (${rule.fix})`);
  }

  const topName = typeof raw["name"] === "string" ? raw["name"] : undefined;
  return { env, topLevelName: topName, definedEnvironments, values, warnings, ignored, refusals };
}

function effective(
  key: string,
  rule: KeyRule,
  raw: RawWranglerConfig,
  rawEnv: Record<string, unknown> | undefined,
  env: string | undefined,
  prefix: string,
): Located | undefined {
  const top = raw[key];
  const own = rawEnv?.[key];
  if (rule.scope === "top") return top === undefined ? undefined : { value: top, path: key };
  if (rule.scope === "env") {
    if (env === undefined) return top === undefined ? undefined : { value: top, path: key };
    return own === undefined ? undefined : { value: own, path: prefix + key };
  }
  if (own !== undefined) return { value: own, path: prefix + key };
  // `name` is inherited as `<name>-<env>` (wrangler's appendEnvName).
  if (key === "name" && env !== undefined)
    return typeof top === "string" && top !== "" ? { value: `${top}-${env}`, path: "name" } : undefined;
  return top === undefined ? undefined : { value: top, path: key };
}

/** What `[env.X]` may hold: every key but the top-level-only ones. */
const ENV_KEYS = Object.entries(WRANGLER_KEYS)
  .filter(([, rule]) => rule.scope !== "top")
  .map(([key]) => key);

function unknownKey(path: string, meant: string | undefined): string {
  const fix = meant ? `did you mean "${meant}"? Fix the spelling, or remove it` : "check the spelling or remove it";
  return `${path}: unknown wrangler key (wrangler warns and ignores it, so it would do nothing); ${fix}`;
}
