// The startup probe's view of an upload (workers/startup-probe.ts): its code, compatibility
// settings and text/JSON vars, with a digest so that the same code is probed in one isolate.
import { createHash } from "node:crypto";
import type { Binding } from "../state/model.ts";
import type { ProbeSpec } from "../workers/startup-probe.ts";
import type { ParsedUpload } from "./multipart.ts";
import { runnableCompatibilityDate } from "../runtime/compat-date.ts";

/**
 * What the startup probe loads: the upload's code and its text and JSON vars (no other bindings),
 * over those of the previous version, which an upload keeps (keep_vars, keep_bindings, inherit):
 * the probe may accept code the real load refuses, never the other way round.
 */
export function startupSpec(upload: ParsedUpload, previous: Binding[] = []): ProbeSpec {
  const meta = upload.metadata as Record<string, unknown>;
  const vars: Record<string, unknown> = {};
  for (const b of [...previous, ...((Array.isArray(meta.bindings) ? meta.bindings : []) as Binding[])]) {
    if ((b.type === "plain_text" || b.type === "secret_text") && typeof b.text === "string") vars[b.name] = b.text;
    else if (b.type === "json") vars[b.name] = b.json;
  }
  const spec = {
    compatibilityDate: runnableCompatibilityDate(typeof meta.compatibility_date === "string" ? meta.compatibility_date : "2021-11-02"),
    compatibilityFlags: Array.isArray(meta.compatibility_flags) ? (meta.compatibility_flags as string[]) : [],
    mainModule: upload.mainModule,
    modules: upload.modules
      .filter((m) => m.type !== "sourcemap")
      .map((m) =>
        m.type === "data" || m.type === "wasm"
          ? { name: m.name, type: m.type, base64: Buffer.from(m.content).toString("base64") }
          : { name: m.name, type: m.type, text: new TextDecoder().decode(m.content) },
      ),
    vars,
  };
  return { key: createHash("sha256").update(JSON.stringify(spec)).digest("hex"), ...spec };
}
