// Adds the env shim to a version being loaded: the shim runtime module, and a generated main
// module that wraps the user's (entry.ts). Only versions with shimmed bindings pay for this; the
// export names cost one CONTROL call per version load (the loader caches the loaded version).
import { ENTRY_MODULE, SHIM_MODULE, entrySource } from "./entry.ts";
import type { ShimSpec } from "./shim.ts";

export async function installEnvShim(opts: {
  control: Fetcher;
  versionId: string;
  mainModule: string;
  modules: Record<string, unknown>;
  shims: Record<string, ShimSpec>;
  /** The bundled shim.ts (the router gets it as a text binding). */
  runtime: string;
}): Promise<string> {
  const res = await opts.control.fetch(`http://control/exports/${opts.versionId}`);
  if (!res.ok) {
    const body = (await res.json().catch(() => ({}))) as { error?: string };
    throw new Error(`the exports of ${opts.mainModule} could not be read: ${body.error ?? res.status}`);
  }
  const { exports } = (await res.json()) as { exports: string[] };
  opts.modules[SHIM_MODULE] = { js: opts.runtime };
  opts.modules[ENTRY_MODULE] = { js: entrySource(opts.mainModule, exports, opts.shims) };
  return ENTRY_MODULE;
}
