// One target's way to its new version, before any step: the phases before the upload (resources
// were read by the caller; D1 expand migrations, assets), then the upload itself, journaled before
// (upload.intent) and after (uploaded), and the version recorded in the catalog. A script PUT (a
// first deploy, Durable Object migrations) serves the new version at once, so the target counts as
// touched from the moment it is sent.
import {
  CF_ERROR,
  hasCloudflareCode,
  migrationsToUpload,
  uploadSettingsFromSource,
  type DurableObjectMigrations,
  type WorkerUpload,
} from "../cloudflare/index.ts";
import { DEFAULT_KEEP_BINDINGS } from "../cloudflare/upload.ts";
import type { WorkerSource } from "../config/source/model.ts";
import { CboError } from "../kit/errors.ts";
import type { TargetRuntime } from "../targets/types.ts";
import { ensureConfigNamespace } from "../targets/kv-namespaces.ts";
import type { ApplyContext, Progress } from "./apply-context.ts";
import { d1Phase } from "./d1-phase.ts";
import { J } from "./journal.ts";
import type { TargetPlace } from "./observe.ts";
import { recording } from "./record.ts";
import { versionFacts } from "./release-build.ts";
import { secretBindings } from "./secret-plan.ts";
import { assetsPhase, uploadBindings, type ResourceIds } from "./target-phases.ts";
import type { ReleasePlan } from "./types.ts";

export async function uploadTarget(
  ctx: ApplyContext,
  at: {
    name: string;
    runtime: TargetRuntime;
    ids: ResourceIds;
    place: TargetPlace;
    signal: AbortSignal;
    touched: Map<string, Progress>;
    setStage: (stage: string) => void;
  },
): Promise<{ versionId: string; progress: (v: string | null) => Progress }> {
  const { rec, plan, worker, release } = ctx;
  const { name, runtime, ids, place, signal, touched } = at;
  const planned = plan.targets.find((t) => t.name === name)!;
  const previousVersionId = planned.previousVersionId;
  const build = ctx.build.of(name);
  const source = build.source;
  const facts = ctx.facts?.get(name);
  const bundleHash = planned.bundleHash ?? plan.bundleHash;
  at.setStage("D1 migrations");
  await d1Phase({ ...ctx, stop: signal }, "d1-migrations", name, runtime, build, ids, place);
  signal.throwIfAborted();
  at.setStage("assets");
  const assets = await assetsPhase(ctx, name, runtime, build, facts);
  signal.throwIfAborted();
  at.setStage("upload");
  const migrations = await durableObjectMigrations(runtime, worker.name, source, planned);
  const put = planned.upload === "script" || previousVersionId === null;
  rec.journal(J.uploadIntent, name, {
    previousVersionId,
    bundleHash,
    put,
    ...(migrations ? { migration: migrationTags(migrations) } : {}),
  });
  // The plan's read found it (no request now), or it is created here (looked up again first).
  const configNamespaceId = worker.agent
    ? (facts?.configNamespace?.id ?? (await ensureConfigNamespace(runtime, ctx.spec?.targets.find((t) => t.name === name)?.kv_namespace)))
    : undefined;
  const secrets = secretBindings(worker, name, plan.secrets, ctx.secrets, {
    by: `release:${release.id}`,
    orchestratorUrl: ctx.orchestratorUrl,
    publicKey: ctx.publicKey,
    configNamespaceId,
  });
  // A Worker that uses vault secrets gets exactly the ones its plan ships: none carried over
  // from the previous version (a withheld or removed secret must not linger there). keep_vars
  // keeps vars set outside the release, as wrangler's does.
  const keep = worker.secrets.length > 0 ? [] : [...DEFAULT_KEEP_BINDINGS];
  if (source.settings.keepVars) keep.push("plain_text", "json");
  const upload: WorkerUpload = {
    mainModule: build.bundle.mainModule,
    modules: build.bundle.modules,
    compatibilityDate: source.compatibilityDate ?? worker.compatibilityDate,
    compatibilityFlags: source.compatibilityFlags,
    bindings: [...uploadBindings(source, place, ids), ...secrets.bindings],
    ...(worker.secrets.length > 0 || source.settings.keepVars ? { keepBindings: keep } : {}),
    annotations: { "workers/message": `cbo release ${release.id}` },
    ...uploadSettingsFromSource(source.settings),
    ...(migrations ? { migrations } : {}),
    ...(assets ? { assets } : {}),
  };
  signal.throwIfAborted();
  let versionId: string;
  const progress = (v: string | null): Progress => ({
    previousVersionId,
    versionId: v,
    ...(secrets.pins?.workerKey ? { workerKey: secrets.pins.workerKey } : {}),
    ...(migrations ? { migrated: migrationTags(migrations) } : {}),
  });
  if (put) {
    // The script PUT serves the new version at once: nothing served yet (a first deploy), or
    // Durable Object migrations, which only a non-versioned deploy applies (as wrangler deploy).
    touched.set(name, progress(null));
    const result = await runtime.client.uploadScript(worker.name, upload);
    if (!result.deployment_id) throw new CboError("ERR_CF_RESPONSE", `the upload of ${worker.name} to ${name} returned no version id`);
    versionId = result.deployment_id;
    touched.set(name, progress(versionId));
  } else {
    versionId = (await runtime.client.uploadVersion(worker.name, upload).catch(explainVersionRefusal(worker.name, name))).id;
  }
  rec.journal(J.uploaded, name, {
    versionId,
    previousVersionId,
    created: previousVersionId === null,
    put,
    ...(migrations ? { migration: migrationTags(migrations) } : {}),
  });
  recording("the version in the catalog", () =>
    ctx.store.catalog.recordVersion({
      tenant: release.tenant,
      worker: worker.name,
      target: name,
      version_id: versionId,
      release_id: release.id,
      bundle_hash: bundleHash,
      secrets: secrets.pins,
      facts: versionFacts(build),
    }),
  );
  rec.emit("release.target.uploaded", name, { versionId, previousVersionId, ...(secrets.pins ? { secrets: secrets.pins } : {}) });
  return { versionId, progress };
}

/**
 * The Durable Object migrations this target's upload carries, from its tag read again now. The
 * plan chose the upload path from the tag it read: a tag that moved since (another deploy applied
 * or undid a migration) changes what the upload must be, so the release stops rather than upload
 * what the plan did not say.
 */
async function durableObjectMigrations(
  runtime: TargetRuntime,
  script: string,
  source: WorkerSource,
  planned: ReleasePlan["targets"][number],
): Promise<DurableObjectMigrations | undefined> {
  if (source.migrations.length === 0) return undefined;
  const tag = await runtime.client.getMigrationTag(script);
  const { migrations } = migrationsToUpload(source.migrations, tag);
  const want = planned.durableObjectMigration ?? null;
  const same = migrations
    ? want !== null && want.newTag === migrations.new_tag && want.oldTag === (migrations.old_tag ?? null)
    : want === null;
  if (!same) {
    throw new CboError(
      "ERR_CONFLICT",
      `The Durable Object migration tag of ${script} in ${runtime.name} is now ${tag ?? "none"}, not what the plan read: ${migrations ? `the upload would carry migrations ${migrations.old_tag ?? "(none)"} -> ${migrations.new_tag}, which only a script PUT (100% at once) applies, not a gradual version upload` : "the upload no longer carries the migrations the plan said"}.`,
      { details: { target: runtime.name, tag, planned: want }, hint: "Someone deployed this Worker meanwhile; plan and release again." },
    );
  }
  return migrations;
}

const migrationTags = (m: DurableObjectMigrations) => ({ oldTag: m.old_tag ?? null, newTag: m.new_tag });

/** Cloudflare's 10211 (a version upload with a Durable Object migration), said in our words. */
function explainVersionRefusal(script: string, target: string) {
  return (e: unknown): never => {
    if (!hasCloudflareCode(e, CF_ERROR.VERSION_HAS_MIGRATION)) throw e;
    throw new CboError(
      "ERR_CONFLICT",
      `${target} refused the version upload of ${script}: it carries a Durable Object migration, which Cloudflare applies only through a non-versioned deploy (code 10211).`,
      { hint: "Plan and release again: the plan then PUTs the script with its migration, at 100% at once.", cause: e },
    );
  };
}
