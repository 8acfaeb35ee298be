// The spec's bindings as the upload API wants them, per target: vars become plain_text, services
// service bindings, and each KV binding points at the namespace with the spec's title in that
// target's account (created there when missing, so the same spec releases to every account).
import type { UploadBinding } from "../cloudflare/upload.ts";
import type { ResolvedWorker } from "../config/load.ts";
import { isCboError } from "../kit/errors.ts";
import type { TargetRuntime } from "./types.ts";

/** Cloudflare's code for "a namespace with this title already exists". */
const KV_TITLE_TAKEN = 10014;

/** Namespace id per title in the target's account; creates the missing ones. */
export async function ensureKvNamespaces(runtime: TargetRuntime, titles: string[]): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  if (titles.length === 0) return ids;
  for (const ns of await runtime.client.listKvNamespaces()) ids.set(ns.title, ns.id);
  for (const title of new Set(titles)) {
    if (ids.has(title)) continue;
    try {
      ids.set(title, (await runtime.client.createKvNamespace(title)).id);
    } catch (e) {
      // Someone else created it between our list and our create: read it back.
      const codes = isCboError(e) ? ((e.details?.cloudflareErrors as { code: number }[] | undefined) ?? []).map((c) => c.code) : [];
      if (!codes.includes(KV_TITLE_TAKEN)) throw e;
      const found = (await runtime.client.listKvNamespaces()).find((n) => n.title === title);
      if (!found) throw e;
      ids.set(title, found.id);
    }
  }
  return ids;
}

export async function bindingsFor(worker: ResolvedWorker, runtime: TargetRuntime): Promise<UploadBinding[]> {
  const kvIds = await ensureKvNamespaces(runtime, Object.values(worker.kv));
  return [
    ...Object.entries(worker.vars).map(([name, text]) => ({ type: "plain_text", name, text })),
    ...Object.entries(worker.kv).map(([name, title]) => ({ type: "kv_namespace", name, namespace_id: kvIds.get(title)! })),
    ...Object.entries(worker.services).map(([name, service]) => ({ type: "service", name, service })),
    ...(worker.versionMetadata ? [{ type: "version_metadata", name: worker.versionMetadata }] : []),
  ];
}
