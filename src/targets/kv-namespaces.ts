// KV namespaces in a target's account, by title: a spec names namespaces by title because ids are
// per account, so the same spec releases to every account. Missing ones are created. Used by the
// engine (a Worker's KV bindings, the edge agent's config namespace) and by config sync (writing
// signed config into that namespace).
import { isCboError } from "../kit/errors.ts";
import type { TargetRuntime } from "./types.ts";

/** Cloudflare's code for "a namespace with this title already exists". */
const KV_TITLE_TAKEN = 10014;

/** The KV namespace title holding signed config when a target names none. */
export const DEFAULT_CONFIG_NAMESPACE = "cbo-config";

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

/** The id of the target's config namespace (`kv_namespace:` of the target, else cbo-config), created when missing. */
export async function ensureConfigNamespace(runtime: TargetRuntime, title: string | undefined): Promise<string> {
  const t = title ?? DEFAULT_CONFIG_NAMESPACE;
  return (await ensureKvNamespaces(runtime, [t])).get(t)!;
}
