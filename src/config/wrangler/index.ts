// Reads a wrangler file for one environment into a WorkerSource, the way wrangler reads it
// (test/wrangler-config-conformance.test.ts holds it to wrangler's own unstable_readConfig).
// Everything the orchestrator cannot honour refuses the whole file, every problem listed at once.
import { resolve } from "node:path";
import { CboError } from "../../kit/errors.ts";
import type { WorkerSource } from "../source/model.ts";
import { selectEnvironment } from "./environment.ts";
import { readRawWranglerConfig, type RawWranglerConfig } from "./parse.ts";
import { toWorkerSource } from "./to-source.ts";

export { WRANGLER_KEYS, DEV_ONLY_SUBKEYS, type KeyRule } from "./keys.ts";
export { selectEnvironment, type SelectedEnvironment } from "./environment.ts";
export { readRawWranglerConfig, parseWranglerText, type RawWranglerConfig } from "./parse.ts";

export type ReadWranglerOptions = {
  /** The `[env.<name>]` to select; undefined = the top level. */
  env?: string;
};

export function readWranglerWorker(file: string, opts: ReadWranglerOptions = {}): WorkerSource {
  const abs = resolve(file);
  return wranglerSourceFromRaw(readRawWranglerConfig(abs), abs, opts);
}

/** The same from an already parsed file (`file` names it in messages and anchors its relative paths). */
export function wranglerSourceFromRaw(raw: RawWranglerConfig, file: string, opts: ReadWranglerOptions = {}): WorkerSource {
  const { source, refusals } = toWorkerSource(file, selectEnvironment(raw, opts.env));
  if (!source) {
    const shown = refusals.slice(0, 10);
    throw new CboError(
      "ERR_VALIDATION",
      shown.map((r) => `${file}: ${r}`).join("\n") +
        (refusals.length > shown.length ? `\n… and ${refusals.length - shown.length} more` : ""),
      {
        details: { file, ...(opts.env !== undefined ? { env: opts.env } : {}), problems: refusals },
        hint: "Fix or remove the keys named above; README (wrangler projects) lists what the orchestrator reads, refuses and ignores.",
      },
    );
  }
  return source;
}

/** The environments a wrangler file defines (`[env.*]`), without reading anything else. */
export function definedEnvironments(raw: RawWranglerConfig): string[] {
  const envs = raw["env"];
  return typeof envs === "object" && envs !== null && !Array.isArray(envs) ? Object.keys(envs) : [];
}
