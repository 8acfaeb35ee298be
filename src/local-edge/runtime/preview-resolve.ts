// Which version a preview host serves when it is not a live one: `<first 8 hex of the version
// id>-<worker>` (the "Version Preview URL" `wrangler versions upload` prints) or
// `<alias>-<worker>` (`--preview-alias`, the `workers/alias` annotation, newest version wins).
// As at Cloudflare, only Workers with preview URLs on and without Durable Objects have them.
import type { ScriptStore } from "../state/scripts.ts";
import type { WorkerStores } from "../state/worker-stores.ts";

export type PreviewTarget = { script: string; versionId: string; assets: boolean };

/** Versions searched per Worker, newest first: a preview of an older one than this is not served. */
const SEARCHED_VERSIONS = 1000;

export function resolvePreview(scripts: ScriptStore, stores: WorkerStores, accountId: string, label: string): PreviewTarget | undefined {
  for (let dash = label.indexOf("-"); dash > 0; dash = label.indexOf("-", dash + 1)) {
    const prefix = label.slice(0, dash);
    const script = scripts.get(accountId, label.slice(dash + 1));
    if (!script?.previews_enabled || stores.dos.ofScript(accountId, script.name).length > 0) continue;
    const versions = scripts.listVersions(accountId, script.name, SEARCHED_VERSIONS, 0);
    const v = /^[0-9a-f]{8}$/.test(prefix)
      ? versions.find((x) => x.id.startsWith(prefix))
      : versions.find((x) => x.annotations["workers/alias"] === prefix);
    if (v) return { script: script.name, versionId: v.id, assets: stores.extras.get(v.id).assets !== null };
  }
  return undefined;
}
