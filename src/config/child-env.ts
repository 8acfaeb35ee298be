// The environment the daemon's child processes get: esbuild's service, every workerd of the local
// edge, cloudflared. The daemon's own environment may hold CBO_MASTER_KEY or CLOUDFLARE_API_TOKEN,
// and a child's environment is readable in /proc/<pid>/environ for as long as it runs; so children
// get an allowlist (locale, paths, certificates, proxies, runtime tuning) and nothing else.
export type Env = Record<string, string | undefined>;

const PASSED = new Set([
  "PATH",
  "PWD",
  "HOME",
  "USER",
  "LOGNAME",
  "SHELL",
  "LANG",
  "LANGUAGE",
  "TZ",
  "TMPDIR",
  "TMP",
  "TEMP",
  "TERM",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
  "HTTPS_PROXY",
  "HTTP_PROXY",
  "NO_PROXY",
  "https_proxy",
  "http_proxy",
  "no_proxy",
  // Windows needs these to start anything at all.
  "SystemRoot",
  "SYSTEMROOT",
  "windir",
  "COMSPEC",
  "PATHEXT",
]);
// Locale categories, and the Go runtime's knobs for esbuild (GOMAXPROCS, GOGC, GODEBUG, GOMEMLIMIT).
const PASSED_PREFIXES = ["LC_", "GOMAXPROCS", "GOGC", "GODEBUG", "GOMEMLIMIT"];

/** The secrets the daemon reads from its environment; `takeSecretEnv` moves them out of it. */
export const SECRET_ENV = [
  "CBO_MASTER_KEY",
  "CBO_MASTER_PASSPHRASE",
  "CLOUDFLARE_API_TOKEN",
  "CLOUDFLARE_API_KEY",
  "CF_API_TOKEN",
  "CBO_TOKEN",
] as const;

export function passedToChildren(name: string): boolean {
  return PASSED.has(name) || PASSED_PREFIXES.some((p) => name.startsWith(p));
}

/** The part of `env` a child process may see. */
export function childEnv(env: Env = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && passedToChildren(k)) out[k] = v;
  return out;
}

/**
 * Every other name of `env` mapped to "": for spawners that merge their own overrides over
 * process.env and accept only strings (Miniflare's `unsafeRuntimeEnv` for workerd). The names
 * stay visible to the child, the values do not.
 */
export function blankForChildren(env: Env = process.env): Record<string, string> {
  return Object.fromEntries(
    Object.keys(env)
      .filter((k) => !passedToChildren(k))
      .map((k) => [k, ""]),
  );
}

/**
 * Runs `fn` with process.env cut down to childEnv(): for libraries that spawn from process.env
 * with no option to change it (esbuild starts its service process inside its first build()
 * call, synchronously). Nothing else runs in between, so the rest of the process never sees it.
 */
export function withChildEnv<T>(fn: () => T): T {
  const saved = process.env;
  process.env = childEnv(saved);
  try {
    return fn();
  } finally {
    process.env = saved;
  }
}

/**
 * Moves SECRET_ENV out of `env` (process.env by default) and returns them: `cbo up`, `cbo daemon`,
 * `cbo edge` and `cbo init` call it first, so that no child started later (whoever starts it)
 * can inherit them. The values are passed on explicitly from there.
 */
export function takeSecretEnv(env: Env = process.env): Record<string, string> {
  const taken: Record<string, string> = {};
  for (const k of SECRET_ENV) {
    const v = env[k];
    if (v !== undefined) taken[k] = v;
    delete env[k];
  }
  return taken;
}
