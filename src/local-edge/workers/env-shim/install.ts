// Adds the env shim (shim.ts) to a version being loaded: its descriptors go into env under
// __CBO_SHIM, the bundled shim becomes the module `__cbo_env.js` beside the main module, and the
// main module imports it first. Versions without shimmed bindings (and not using the Cache API)
// are loaded untouched, so they pay nothing.
import type { ShimDescriptor } from "./descriptor.ts";

export const SHIM_MODULE = "__cbo_env.js";
export const SHIM_ENV_KEY = "__CBO_SHIM";

/** Returns the main module name (unchanged); `modules` and `env` are edited in place. */
export function installEnvShim(opts: {
  mainModule: string;
  modules: Record<string, unknown>;
  env: Record<string, unknown>;
  descriptors: Record<string, ShimDescriptor>;
  /** shim.ts bundled (the router gets it as the SHIM_CODE text binding). */
  code: string;
  /** Install it even without descriptors (the Cache API: cache.ts). */
  always?: boolean;
}): string {
  if (Object.keys(opts.descriptors).length === 0 && !opts.always) return opts.mainModule;
  opts.env[SHIM_ENV_KEY] = opts.descriptors;
  const dir = opts.mainModule.includes("/") ? opts.mainModule.slice(0, opts.mainModule.lastIndexOf("/") + 1) : "";
  opts.modules[`${dir}${SHIM_MODULE}`] = { js: opts.code };
  const main = opts.modules[opts.mainModule] as { js: string };
  // Same line as the user's first line, so stack traces keep their line numbers.
  opts.modules[opts.mainModule] = { js: `import "./${SHIM_MODULE}";${main.js}` };
  return opts.mainModule;
}
