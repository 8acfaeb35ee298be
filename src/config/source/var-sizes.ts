// A string var is uploaded as a plain_text binding, which Cloudflare (and the local edge,
// src/local-edge/api/bindings.ts) refuses over 5 KiB of UTF-8. Wrangler itself does not check
// (workers-utils' validateVars only refuses TOML dates), so a spec with such a var planned fine and
// the release failed at its first upload, after the build and maybe other workers' uploads.
// Refused when the spec is read instead, naming the worker and the var, never the value.
import { CboError } from "../../kit/errors.ts";
import type { WorkerSource } from "./model.ts";

/** The most a string var may hold, in UTF-8 bytes: the edge's MAX_TEXT_BINDING_BYTES, the vault's MAX_BINDING_VALUE_BYTES. */
export const MAX_VAR_BYTES = 5 * 1024;

/** `where` says where in orchestrator.yaml, `from` where a var came from (its wrangler file and env, or ""). */
export function checkVarSizes(source: WorkerSource, where: string, from: (name: string) => string): void {
  for (const [name, value] of Object.entries(source.vars)) {
    // A JSON var is a `json` binding, which the edge does not cap; only strings are plain_text.
    if (typeof value !== "string" || value.length <= MAX_VAR_BYTES / 3) continue;
    const bytes = Buffer.byteLength(value, "utf8");
    if (bytes <= MAX_VAR_BYTES) continue;
    throw new CboError(
      "ERR_VALIDATION",
      `${where}: worker "${source.name}": var "${name}"${from(name)} is ${bytes} bytes; Cloudflare takes a var of at most ${MAX_VAR_BYTES} bytes (5 KiB), so every upload of this worker would be refused.`,
      {
        details: { worker: source.name, var: name, bytes, limit: MAX_VAR_BYTES },
        hint: "Keep a larger value in KV, R2 or D1 and bind that instead, or deliver it as a secret with mode relay.",
      },
    );
  }
}
