// The spec's bindings as the upload API wants them, per target: vars become plain_text, services
// service bindings, and each KV binding points at the namespace with the spec's title in that
// target's account (created there when missing, so the same spec releases to every account:
// src/targets/kv-namespaces.ts).
import type { UploadBinding } from "../cloudflare/upload.ts";
import type { ResolvedWorker } from "../config/load.ts";
import { ensureKvNamespaces } from "../targets/kv-namespaces.ts";
import type { TargetRuntime } from "../targets/types.ts";

export async function bindingsFor(worker: ResolvedWorker, runtime: TargetRuntime): Promise<UploadBinding[]> {
  const kvIds = await ensureKvNamespaces(runtime, Object.values(worker.kv));
  return [
    ...Object.entries(worker.vars).map(([name, text]) => ({ type: "plain_text", name, text })),
    ...Object.entries(worker.kv).map(([name, title]) => ({ type: "kv_namespace", name, namespace_id: kvIds.get(title)! })),
    ...Object.entries(worker.services).map(([name, service]) => ({ type: "service", name, service })),
    ...(worker.versionMetadata ? [{ type: "version_metadata", name: worker.versionMetadata }] : []),
  ];
}
