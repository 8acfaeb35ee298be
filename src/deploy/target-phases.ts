// The phases of one target's release around its upload and steps (apply.ts drives them in order):
//
//   resources      find again, then create, each resource the plan found missing; record every
//                  resource in the store (which release created it)
//   d1-migrations  (d1-phase.ts) the expand migrations, before the upload
//   assets         the uploads of the session the plan opened (only what the account lacks)
//   (upload, steps: apply.ts)
//   settings       after the 100% step: the managed settings read again, the changed ones written
//   d1-contract    (d1-phase.ts) once every target passed its last gate: the contract migrations
//
// Each phase that writes to the edge journals `phase.intent` first and `phase.done` after, so a
// crash leaves a record of what may have happened; all of them are level-based (a lookup before a
// create, a read before a write), so doing one again never makes a second of anything.
import type { AssetsConfigMetadata, UploadBinding } from "../cloudflare/index.ts";
import { assetsConfigMetadata, bindingsMetadata, type AssetsUploadSession } from "../cloudflare/index.ts";
import type { WorkerBinding, WorkerSource } from "../config/source/model.ts";
import { createAssetReader } from "../build/index.ts";
import { CboError, isCboError } from "../kit/errors.ts";
import {
  checkJurisdiction,
  createResource,
  findOne,
  lookupResources,
  placeResource,
  refKey,
  resourceLabel,
  type FoundResource,
} from "../targets/resources.ts";
import {
  changedKeys,
  desiredState,
  managedKeys,
  readState,
  writeState,
  type ScriptState,
  type SettingKey,
  type SettingsChange,
} from "../targets/script-state.ts";
import type { TargetRuntime } from "../targets/types.ts";
import type { ApplyContext } from "./apply-context.ts";
import { J } from "./journal.ts";
import { placedResources, type TargetFacts, type TargetPlace } from "./observe.ts";
import { recording, type Recorder } from "./record.ts";
import type { SourceBuild } from "./release-build.ts";

export function targetPlace(ctx: Pick<ApplyContext, "spec">, name: string): TargetPlace {
  const t = ctx.spec?.targets.find((x) => x.name === name);
  return { name, ...(t?.jurisdiction ? { jurisdiction: t.jurisdiction } : {}) };
}

/** The target's id of every resource the source uses, by its key (targets/resources.ts refKey). */
export type ResourceIds = Map<string, FoundResource>;

export async function resourcesPhase(
  ctx: ApplyContext,
  name: string,
  runtime: TargetRuntime,
  source: WorkerSource,
  facts: TargetFacts | undefined,
): Promise<ResourceIds> {
  const place = targetPlace(ctx, name);
  const placed = placedResources(source, place);
  const ids: ResourceIds = new Map();
  if (placed.length === 0) return ids;
  const known = facts?.resources
    ? new Map(facts.resources.map((r) => [refKey(r.ref), r.found]))
    : await lookupResources(
        runtime,
        placed.map((p) => p.ref),
      );
  const missing = placed.filter((p) => !known.get(refKey(p.ref)));
  const created = new Set<string>();
  for (const p of placed) {
    const f = known.get(refKey(p.ref));
    if (f) ids.set(refKey(p.ref), f);
  }
  if (missing.length > 0) {
    ctx.rec.journal(J.phaseIntent, name, { phase: "resources", create: missing.map((m) => m.ref) });
    for (const m of missing) {
      // Level-based: look again first (another release, or our own create whose answer was lost).
      let found = await findOne(runtime, m.ref);
      if (!found) {
        const made = await createResource(runtime, m.ref);
        found = made.found;
        if (made.created) created.add(refKey(m.ref));
      }
      checkJurisdiction(name, m.ref, found);
      ids.set(refKey(m.ref), found);
    }
    const done = missing.map((m) => ({ ...m.ref, id: ids.get(refKey(m.ref))!.id, created: created.has(refKey(m.ref)) }));
    ctx.rec.journal(J.phaseDone, name, { phase: "resources", resources: done });
    const made = done.filter((d) => d.created);
    ctx.rec.emit("release.phase.done", name, {
      phase: "resources",
      summary:
        made.length > 0
          ? `created ${made.map((d) => `${resourceLabel(d.kind)} ${d.name}${d.jurisdiction ? ` in ${d.jurisdiction}` : ""}`).join(", ")}`
          : "every resource was there already",
      resources: done,
    });
  }
  recording("the target's resources", () => {
    for (const p of placed) {
      const f = ids.get(refKey(p.ref))!;
      ctx.store.resources.record({
        tenant: ctx.release.tenant,
        target: name,
        kind: p.ref.kind,
        name: p.ref.name,
        jurisdiction: p.ref.jurisdiction ?? "",
        account_id: runtime.accountId,
        resource_id: f.id,
        created_by: created.has(refKey(p.ref)) ? ctx.release.id : null,
        release: ctx.release.id,
      });
    }
  });
  return ids;
}

/** The version's bindings in this target: its vars and bindings with the target's resource ids, shaped as wrangler sends them. */
export function uploadBindings(source: WorkerSource, place: TargetPlace, ids: ResourceIds): UploadBinding[] {
  const kv: Record<string, string> = {};
  const d1: Record<string, string> = {};
  const bindings = source.bindings.map((b): WorkerBinding => {
    if (!("resource" in b)) return b;
    const { ref } = placeResource(b.resource, place);
    const found = ids.get(refKey(ref));
    if (!found)
      throw new CboError("ERR_INTERNAL", `no ${ref.kind} resource ${ref.name} resolved in ${place.name} for binding ${b.binding}`);
    if (ref.kind === "kv") kv[ref.name] = found.id;
    if (ref.kind === "d1") d1[ref.name] = found.id;
    const { jurisdiction: _j, ...resource } = b.resource;
    return { ...b, resource: { ...resource, ...(ref.jurisdiction ? { jurisdiction: ref.jurisdiction } : {}) } } as WorkerBinding;
  });
  return bindingsMetadata({ vars: source.vars, bindings, ids: { kv, d1 } });
}

/** The static assets this target lacks, uploaded; the completion token and router config for the version's metadata. */
export async function assetsPhase(
  ctx: ApplyContext,
  name: string,
  runtime: TargetRuntime,
  build: SourceBuild,
  facts: TargetFacts | undefined,
): Promise<{ jwt: string; config: AssetsConfigMetadata } | undefined> {
  const assets = build.assets;
  const config = build.source.assets;
  if (!assets || !config) return undefined;
  const script = ctx.worker.name;
  let session: AssetsUploadSession = facts?.assets?.session ?? (await runtime.client.createAssetsUploadSession(script, assets.manifest));
  const byHash = new Map(assets.files.map((f) => [f.hash, f]));
  const read = createAssetReader({ root: ctx.worker.root, protect: ctx.protect ?? [], worker: script });
  const load = async (hash: string) => {
    const f = byHash.get(hash)!;
    return { content: await read(f), contentType: f.contentType };
  };
  const wanted = () => session.buckets.flat();
  const bytes = () => wanted().reduce((n, h) => n + (byHash.get(h)?.size ?? 0), 0);
  if (wanted().length > 0)
    ctx.rec.journal(J.phaseIntent, name, { phase: "assets", files: assets.files.length, upload: wanted().length, bytes: bytes() });
  let sync;
  try {
    sync = await runtime.client.uploadAssetsSession(script, session, assets.manifest, load);
  } catch (e) {
    // The plan's session may have expired while earlier waves baked: one fresh session, once.
    if (!(isCboError(e) && e.details?.status === 401)) throw e;
    session = await runtime.client.createAssetsUploadSession(script, assets.manifest);
    sync = await runtime.client.uploadAssetsSession(script, session, assets.manifest, load);
  }
  const sent = bytes();
  if (sync.uploaded > 0)
    ctx.rec.journal(J.phaseDone, name, { phase: "assets", uploaded: sync.uploaded, skipped: sync.skipped, bytes: sent });
  ctx.rec.emit("release.phase.done", name, {
    phase: "assets",
    summary:
      sync.uploaded > 0
        ? `uploaded ${sync.uploaded} new or changed asset(s) (${sent} bytes); ${sync.skipped} already there`
        : `all ${sync.skipped} asset(s) already there`,
    uploaded: sync.uploaded,
    skipped: sync.skipped,
    bytes: sent,
  });
  return {
    jwt: sync.jwt,
    config: assetsConfigMetadata(config, {
      ...(assets.redirects === undefined ? {} : { redirects: assets.redirects }),
      ...(assets.headers === undefined ? {} : { headers: assets.headers }),
    }),
  };
}

/** After the 100% step: the managed settings read again and the changed ones written. */
export async function settingsPhase(
  ctx: ApplyContext,
  name: string,
  runtime: TargetRuntime,
  source: WorkerSource,
  fresh: boolean,
  onIntent: (change: SettingsChange) => void,
): Promise<SettingsChange | undefined> {
  const script = ctx.worker.name;
  const desired = desiredState(script, source);
  if (managedKeys(desired).length === 0) return undefined;
  // A new script has nothing to keep: every managed setting is written (and a first deploy is never rolled back).
  const before = fresh ? null : (await readState(runtime, script, desired)).state;
  const keys = changedKeys(before, desired);
  if (keys.length === 0) return undefined;
  const change: SettingsChange = { keys, before: before === null ? null : pick(before, keys) };
  ctx.rec.journal(J.phaseIntent, name, { phase: "settings", keys, before: change.before, desired: pick(desired, keys) });
  onIntent(change);
  await writeState(runtime, script, desired, keys);
  ctx.rec.journal(J.phaseDone, name, { phase: "settings", keys });
  ctx.rec.emit("release.phase.done", name, { phase: "settings", summary: `set ${keys.join(", ")}`, keys });
  return change;
}

/** Puts back what a release's settings phase changed (a rollback of the target). */
export async function restoreSettings(
  rec: Recorder,
  script: string,
  name: string,
  runtime: TargetRuntime,
  change: SettingsChange,
): Promise<void> {
  if (change.before === null) return;
  rec.journal(J.phaseIntent, name, { phase: "settings-restore", keys: change.keys, state: change.before });
  await writeState(runtime, script, change.before, change.keys);
  rec.journal(J.phaseDone, name, { phase: "settings-restore", keys: change.keys });
  rec.tryTo(() =>
    rec.emit("release.phase.done", name, { phase: "settings-restore", summary: `restored ${change.keys.join(", ")}`, keys: change.keys }),
  );
}

export function pick(state: ScriptState, keys: SettingKey[]): ScriptState {
  return Object.fromEntries(keys.filter((k) => state[k] !== undefined).map((k) => [k, state[k]])) as ScriptState;
}
