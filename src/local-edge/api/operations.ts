// What the Workers endpoints do to state, shared by the routes: versions from uploads (with
// keep_bindings and inherit), deployments, and secret edits that create a version and deploy it
// at 100% as the real API does. Each runs in one transaction; `notify` tells the region's runtime
// what it now serves.
import type { ProbeOutcome, ProbeSpec } from "../workers/startup-probe.ts";
import { startupSpec } from "./startup-spec.ts";
import { checkCompatibilityDate } from "../runtime/compat-date.ts";
import { hexId, uuid } from "../../kit/ids.ts";
import { transaction, type EdgeDb } from "../state/db.ts";
import type { ScriptStore } from "../state/scripts.ts";
import type { KvStore } from "../state/kv.ts";
import type { Binding, Deployment, DeploymentEntry, Script, StoredModule, Version } from "../state/model.ts";
import { CF_CODES, CfApiError, notFoundScript } from "./envelope.ts";
import type { ParsedUpload } from "./multipart.ts";
import { checkBindings } from "./bindings.ts";
import { applyMigrations, parseMigrations, VERSION_UPLOAD_MIGRATION_MESSAGE, type Migrations } from "./migrations.ts";
import type { WorkerStores } from "../state/worker-stores.ts";
import { NO_EXTRAS, type VersionExtras } from "../state/version-extras.ts";
import type { AssetTokens } from "./asset-tokens.ts";

export type OpsDeps = {
  db: EdgeDb;
  scripts: ScriptStore;
  kv: KvStore;
  notify: (accountId: string) => Promise<void>;
  now?: () => Date;
  stores: WorkerStores;
  assetTokens: AssetTokens;
  /** Refuses bindings to D1/R2/queue resources the account does not have (data-bindings-check.ts). */
  checkBindings?: (accountId: string, bindings: Binding[]) => void;
  /** Starts the uploaded code once in the account's region (workers/startup-probe.ts). */
  checkStartup?: (accountId: string, spec: ProbeSpec) => Promise<ProbeOutcome>;
};

/** Metadata keys a version keeps as its settings (GET …/settings answers them). */
const VERSIONED_SETTINGS = [
  "placement",
  "limits",
  "usage_model",
  "cache_options",
  "tail_consumers",
  "streaming_tail_consumers",
  "logpush",
  "observability",
];
/** Of those, the ones that are the script's (PATCH …/script-settings edits them too). */
export const SCRIPT_LEVEL_SETTINGS = ["logpush", "observability", "tail_consumers", "streaming_tail_consumers", "tags"];

const invalidUpload = (message: string) => new CfApiError(400, CF_CODES.SCRIPT_INVALID, message);

const AUTHOR = "local-edge@localhost";

export const LATEST_NOT_DEPLOYED_MESSAGE =
  "Secret edit failed. You attempted to modify a secret, but the latest version of your Worker isn't currently deployed. " +
  "Please ensure that the latest version of your Worker is fully deployed (wrangler versions deploy) before modifying secrets. " +
  "Alternatively, you can use the Cloudflare dashboard to modify secrets and deploy the version.";

export const SETTINGS_NOT_DEPLOYED_MESSAGE =
  "Script edit failed. You attempted to deploy the latest version with modified settings, but the latest version isn't currently deployed. " +
  "Either upload a new version to edit the version settings, or use the script-level settings API (/workers/scripts/{script_name}/script-settings) " +
  "to modify the settings without deploying a new version.";

/** What an upload without `keep_bindings` carries over from the previous version. */
const IMPLICITLY_KEPT = ["secret_text", "secret_key"];

export function createOps(deps: OpsDeps) {
  const { db, scripts, kv } = deps;
  const { dos, extras, assets } = deps.stores;
  const now = () => (deps.now ?? (() => new Date()))().toISOString();

  function ensureScript(accountId: string, name: string): Script {
    const existing = scripts.get(accountId, name);
    if (existing) return existing;
    const ts = now();
    const s: Script = {
      account_id: accountId,
      name,
      tag: hexId(),
      created_on: ts,
      modified_on: ts,
      settings: {},
      schedules: [],
      subdomain_enabled: true,
      previews_enabled: true,
    };
    scripts.insert(s);
    return s;
  }

  function resolveBindings(accountId: string, upload: ParsedUpload, previous: Version | undefined, strictInherit: boolean): Binding[] {
    const named = new Map<string, Binding>();
    const missing: string[] = [];
    for (const b of upload.metadata.bindings as Binding[]) {
      if (b.type === "inherit") {
        const prev = previous?.bindings.find((p) => p.name === b.name);
        if (!prev) {
          if (strictInherit) missing.push(b.name);
          continue;
        }
        named.set(b.name, prev);
        continue;
      }
      named.set(b.name, b);
    }
    if (missing.length > 0) {
      // One error per binding, worded as Cloudflare does: wrangler reads the names back out of them.
      const [first, ...rest] = missing.map((n) => ({
        code: CF_CODES.INHERIT_INVALID,
        message: `inherit binding '${n}' is invalid: the previous version has no binding of that name to inherit.`,
      }));
      throw new CfApiError(400, first!.code, first!.message, {}, rest);
    }
    // keep_bindings: carry bindings of the listed types from the previous version unless redefined.
    // Without keep_bindings, secrets are carried over all the same, as Cloudflare always did before
    // uploads named what to keep: wrangler 4.86's `deploy` sends none and its Workers keep their
    // secrets; an explicit list (even []) keeps only what it names (`versions secret delete`).
    const keep = new Set(upload.metadata.keep_bindings ?? IMPLICITLY_KEPT);
    for (const p of previous?.bindings ?? []) if (keep.has(p.type) && !named.has(p.name)) named.set(p.name, p);
    const out = [...named.values()];
    checkBindings(out);
    deps.checkBindings?.(accountId, out);
    for (const b of out) {
      if (b.type === "kv_namespace" && !kv.getNamespace(accountId, b.namespace_id as string)) {
        throw new CfApiError(
          400,
          CF_CODES.KV_BINDING_INVALID,
          `KV namespace '${String(b.namespace_id)}' is not valid. (binding ${b.name})`,
        );
      }
    }
    return out;
  }

  function insertVersion(
    accountId: string,
    script: string,
    fields: Omit<Version, "id" | "account_id" | "script" | "number" | "created_on" | "etag">,
    modules: StoredModule[],
    more: VersionExtras = NO_EXTRAS,
  ): Version {
    const number = (scripts.latestVersion(accountId, script)?.number ?? 0) + 1;
    const v: Version = { id: uuid(), account_id: accountId, script, number, created_on: now(), etag: hexId(), ...fields };
    scripts.insertVersion(v, modules);
    extras.put(v.id, more);
    return v;
  }

  /** 10061 for a binding to a class of this script that no migration has created (or one deleted). */
  function checkDurableObjectBindings(accountId: string, script: string, bindings: Binding[]): void {
    for (const b of bindings) {
      if (b.type !== "durable_object_namespace") continue;
      const owner = typeof b.script_name === "string" && b.script_name !== "" ? b.script_name : script;
      if (owner !== script) continue; // another Worker's class: resolved when the version loads
      if (!dos.byClass(accountId, script, b.class_name as string)) {
        throw new CfApiError(
          400,
          CF_CODES.DO_CLASS_NOT_MIGRATED,
          `Cannot create binding for class '${String(b.class_name)}' because it is not currently configured to implement Durable Objects. Ensure a --new-class migration has been applied to it.`,
        );
      }
    }
  }

  /** The version's static assets: the completion token's session manifest, or the previous version's with keep_assets. */
  function resolveAssets(accountId: string, meta: Record<string, unknown>, previous: Version | undefined): VersionExtras["assets"] {
    const a = meta.assets as { jwt?: unknown; config?: unknown } | undefined;
    if (meta.keep_assets === true && (a === undefined || a.jwt === undefined)) {
      const kept = previous ? extras.get(previous.id).assets : null;
      return kept && a?.config && typeof a.config === "object" ? { ...kept, config: a.config as Record<string, unknown> } : kept;
    }
    if (a === undefined) return null;
    if (typeof a !== "object" || a === null || typeof a.jwt !== "string")
      throw invalidUpload("metadata.assets.jwt must be the completion token of an assets upload session.");
    const token = deps.assetTokens.verify(a.jwt, "complete");
    if (!token || token.acct !== accountId)
      throw invalidUpload(
        "metadata.assets.jwt is not a valid (or is an expired) assets completion token for this account; start a new upload session.",
      );
    const session = assets.session(token.sid);
    if (!session) throw invalidUpload("The assets upload session of metadata.assets.jwt no longer exists; start a new upload session.");
    const missing = Object.entries(session.manifest).filter(([, e]) => !assets.has(accountId, e.hash));
    if (missing.length > 0)
      throw invalidUpload(`${missing.length} asset(s) of the upload session were never uploaded (first: ${missing[0]![0]}).`);
    const config = a.config === undefined ? {} : a.config;
    if (typeof config !== "object" || config === null || Array.isArray(config))
      throw invalidUpload("metadata.assets.config must be an object.");
    return { config: config as Record<string, unknown>, manifest: session.manifest };
  }

  function versionSettingsOf(meta: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const k of VERSIONED_SETTINGS) if (meta[k] !== undefined) out[k] = meta[k];
    return out;
  }

  /** Cloudflare does not let traffic go back past a Durable Object migration: one-way, like the migration. */
  function assertNotAcrossMigration(accountId: string, script: string, version: Version): void {
    const barrier = extras.migrationVersionNumbers(accountId, script)[0];
    if (barrier !== undefined && version.number < barrier) {
      throw new CfApiError(
        400,
        CF_CODES.DEPLOY_ACROSS_MIGRATION,
        `Deployment failed. Version ${version.id} (#${version.number}) predates the Durable Object migration applied by version #${barrier} of ${script}; ` +
          "a Worker cannot be rolled back or deployed to a version from before a Durable Object migration.",
      );
    }
  }

  /**
   * Cloudflare refuses (10220) to put traffic back on a version whose secrets differ from the live
   * ones unless the request says ?force=true, naming the secrets; wrangler's `rollback` parses that
   * list, asks, and repeats with force. Going back means: a version not in the live deployment and
   * older than its newest version. A forward move (a new version carrying rotated secrets, the usual
   * canary step) is never refused.
   */
  function assertSecretsUnchangedSince(accountId: string, script: string, entries: DeploymentEntry[]): void {
    const current = scripts.currentDeployment(accountId, script);
    if (!current) return;
    const live = current.versions
      .map((e) => scripts.getVersion(e.version_id))
      .filter((v): v is Version => v !== undefined)
      .sort((a, b) => b.number - a.number)[0];
    if (!live) return;
    const secretsOf = (v: Version) =>
      new Map(v.bindings.filter((b) => b.type === "secret_text").map((b) => [b.name, (b as { text?: unknown }).text]));
    const now = secretsOf(live);
    const changed = new Set<string>();
    for (const e of entries) {
      if (current.versions.some((x) => x.version_id === e.version_id)) continue;
      const v = scripts.getVersion(e.version_id)!;
      if (v.number >= live.number) continue;
      const then = secretsOf(v);
      for (const n of new Set([...now.keys(), ...then.keys()])) if (now.get(n) !== then.get(n)) changed.add(n);
    }
    if (changed.size === 0) return;
    throw new CfApiError(
      400,
      CF_CODES.SECRETS_CHANGED,
      "A secret has changed since this version was active. If you are sure this is ok, add a ?force=true query parameter to allow the rollback. " +
        `The following secrets have changed: ${[...changed].sort().join(", ")}`,
    );
  }

  function insertDeployment(
    accountId: string,
    script: string,
    versions: DeploymentEntry[],
    annotations: Record<string, string>,
    source = "wrangler",
  ): Deployment {
    const d = scripts.insertDeployment({
      id: uuid(),
      account_id: accountId,
      script,
      created_on: now(),
      source,
      author_email: AUTHOR,
      annotations,
      versions,
    });
    const s = scripts.get(accountId, script);
    if (s) scripts.update({ ...s, modified_on: d.created_on });
    return d;
  }

  function assertLatestDeployed(
    accountId: string,
    script: string,
    refusal: { code: number; message: string } = { code: CF_CODES.LATEST_NOT_DEPLOYED, message: LATEST_NOT_DEPLOYED_MESSAGE },
  ): Version {
    const latest = scripts.latestVersion(accountId, script);
    const current = scripts.currentDeployment(accountId, script);
    if (!latest) throw notFoundScript(script);
    // The rule is "the latest version is the one fully deployed" (wrangler reads a deployment's stable
    // version the same way: the entry at 100%), so [latest 100%, older 0%] passes like [latest 100%].
    const live = current?.versions.find((v) => v.percentage === 100)?.version_id;
    if (live !== latest.id) throw new CfApiError(400, refusal.code, refusal.message);
    return latest;
  }

  /** A new version that copies `from` (its code, settings and assets) with its bindings edited. */
  function copyVersion(
    accountId: string,
    script: string,
    from: Version,
    edit: (bindings: Binding[]) => Binding[],
    annotations: Record<string, string>,
  ): Version {
    const bindings = edit(from.bindings.map((b) => ({ ...b })));
    checkBindings(bindings);
    return insertVersion(
      accountId,
      script,
      {
        source: "api",
        author_email: AUTHOR,
        annotations,
        main_module: from.main_module,
        compatibility_date: from.compatibility_date,
        compatibility_flags: from.compatibility_flags,
        bindings,
      },
      scripts.modules(from.id),
      { ...extras.get(from.id), migrations: null },
    );
  }

  /** A new version that copies the latest with its bindings edited, deployed at 100% (secret edits). */
  function editBindingsAndDeploy(
    accountId: string,
    script: string,
    edit: (bindings: Binding[]) => Binding[],
    triggeredBy: string,
    refusal?: { code: number; message: string },
  ): Version {
    const latest = assertLatestDeployed(accountId, script, refusal);
    const v = copyVersion(accountId, script, latest, edit, { "workers/triggered_by": triggeredBy });
    insertDeployment(accountId, script, [{ version_id: v.id, percentage: 100 }], { "workers/triggered_by": triggeredBy }, "api");
    return v;
  }

  return {
    ensureScript,

    /** Tells the account's region what it now serves after a change outside versions (workers.dev, routes, domains). */
    refresh: (accountId: string) => deps.notify(accountId),

    /** POST /versions: a new version, not deployed. PUT /scripts/:name: a new version deployed at 100%. */
    async upload(
      accountId: string,
      name: string,
      upload: ParsedUpload,
      opts: { deploy: boolean; strictInherit: boolean },
    ): Promise<{ version: Version; deployment?: Deployment }> {
      // As at Cloudflare, code that cannot start is refused before anything is stored (an
      // assets-only Worker has no code).
      checkCompatibilityDate(upload.metadata.compatibility_date, Date.now());
      const kept = scripts.latestVersion(accountId, name)?.bindings;
      // Cloudflare answers how long the code took to start; here, the probe's load and run of its top level.
      const probeFrom = performance.now();
      const started = upload.mainModule ? await deps.checkStartup?.(accountId, startupSpec(upload, kept)) : undefined;
      const startupMs = started ? Math.max(1, Math.round(performance.now() - probeFrom)) : undefined;
      if (started && !started.ok) throw new CfApiError(400, CF_CODES.SCRIPT_INVALID, started.error);
      const out = transaction(db, () => {
        // Like the real API: a version upload needs the Worker to exist (first deploys PUT the script).
        if (!opts.deploy && !scripts.get(accountId, name)) throw notFoundScript(name);
        const meta = upload.metadata as Record<string, unknown>;
        const migrations: Migrations | undefined = meta.migrations === undefined ? undefined : parseMigrations(meta.migrations);
        if (migrations && !opts.deploy) throw new CfApiError(400, CF_CODES.VERSION_HAS_MIGRATION, VERSION_UPLOAD_MIGRATION_MESSAGE);
        const script = ensureScript(accountId, name);
        const previous = scripts.latestVersion(accountId, name);
        const bindings = resolveBindings(accountId, upload, previous, opts.strictInherit);
        if (migrations) applyMigrations({ dos, now: now() }, accountId, name, migrations);
        checkDurableObjectBindings(accountId, name, bindings);
        // Beside the versioned settings, the handlers the code exports (the startup probe found them).
        const settings: Record<string, unknown> = {
          ...versionSettingsOf(meta),
          ...(started?.ok && started.handlers ? { handlers: started.handlers } : {}),
          ...(startupMs !== undefined ? { startup_time_ms: startupMs } : {}),
        };
        const more: VersionExtras = { migrations: migrations ?? null, settings, assets: resolveAssets(accountId, meta, previous) };
        if (opts.deploy) {
          const scriptLevel = Object.fromEntries(
            SCRIPT_LEVEL_SETTINGS.filter((k) => settings[k] !== undefined).map((k) => [k, settings[k]]),
          );
          if (Object.keys(scriptLevel).length > 0) scripts.update({ ...script, settings: { ...script.settings, ...scriptLevel } });
        }
        const annotations: Record<string, string> = {
          "workers/triggered_by": opts.deploy ? "upload" : "version_upload",
          ...upload.metadata.annotations,
        };
        const version = insertVersion(
          accountId,
          name,
          {
            source: "wrangler",
            author_email: AUTHOR,
            annotations,
            main_module: upload.mainModule,
            compatibility_date: upload.metadata.compatibility_date ?? "2021-11-02",
            compatibility_flags: upload.metadata.compatibility_flags,
            bindings,
          },
          upload.modules,
          more,
        );
        const deployment = opts.deploy
          ? insertDeployment(accountId, name, [{ version_id: version.id, percentage: 100 }], { "workers/triggered_by": "upload" })
          : undefined;
        return { version, deployment };
      });
      if (out.deployment) await deps.notify(accountId);
      return out;
    },

    /** POST …/deployments; `force` is the query's `?force=true` (deploy back past a secret change). */
    async deploy(accountId: string, name: string, body: unknown, opts: { force?: boolean } = {}): Promise<Deployment> {
      const d = transaction(db, () => {
        if (!scripts.get(accountId, name)) throw notFoundScript(name);
        const b = (body ?? {}) as { strategy?: unknown; versions?: unknown; annotations?: unknown };
        if (b.strategy !== undefined && b.strategy !== "percentage") {
          throw new CfApiError(
            400,
            CF_CODES.DEPLOYMENT_INVALID,
            `Deployment strategy "${String(b.strategy)}" is not supported; use "percentage".`,
          );
        }
        if (!Array.isArray(b.versions) || b.versions.length === 0 || b.versions.length > 2) {
          throw new CfApiError(
            400,
            CF_CODES.DEPLOYMENT_INVALID,
            "A deployment needs `versions`: one or two entries of {version_id, percentage}.",
          );
        }
        const entries: DeploymentEntry[] = [];
        for (const e of b.versions as Array<Record<string, unknown>>) {
          const id = e?.version_id;
          const pct = e?.percentage;
          if (typeof id !== "string" || typeof pct !== "number" || !Number.isFinite(pct) || pct < 0 || pct > 100) {
            throw new CfApiError(
              400,
              CF_CODES.DEPLOYMENT_INVALID,
              "Each deployment entry needs a string version_id and a percentage between 0 and 100.",
            );
          }
          const v = scripts.getVersion(id);
          if (!v || v.account_id !== accountId || v.script !== name) {
            throw new CfApiError(404, CF_CODES.VERSION_NOT_FOUND, `Version ${id} does not exist for Worker ${name}.`);
          }
          assertNotAcrossMigration(accountId, name, v);
          if (entries.some((x) => x.version_id === id))
            throw new CfApiError(400, CF_CODES.DEPLOYMENT_INVALID, `Version ${id} is listed twice.`);
          entries.push({ version_id: id, percentage: pct });
        }
        const total = entries.reduce((s, e) => s + e.percentage, 0);
        if (Math.abs(total - 100) > 1e-6) {
          throw new CfApiError(400, CF_CODES.DEPLOYMENT_INVALID, `Deployment percentages must add up to 100; these add up to ${total}.`);
        }
        if (opts.force !== true) assertSecretsUnchangedSince(accountId, name, entries);
        const raw = (b.annotations ?? {}) as Record<string, unknown>;
        const annotations: Record<string, string> = { "workers/triggered_by": "deployment" };
        for (const [k, v] of Object.entries(raw)) if (typeof v === "string" && v !== "") annotations[k] = v;
        return insertDeployment(accountId, name, entries, annotations);
      });
      await deps.notify(accountId);
      return d;
    },

    async deleteDeployment(accountId: string, name: string, id: string): Promise<void> {
      transaction(db, () => {
        const d = scripts.getDeployment(id);
        if (!d || d.account_id !== accountId || d.script !== name)
          throw new CfApiError(404, CF_CODES.DEPLOYMENT_NOT_FOUND, `Deployment ${id} does not exist.`);
        if (scripts.currentDeployment(accountId, name)?.id === id)
          throw new CfApiError(400, CF_CODES.DEPLOYMENT_NOT_FOUND, "The live deployment cannot be deleted.");
        scripts.deleteDeployment(id);
      });
    },

    async putSecret(accountId: string, name: string, secret: { name: string; text: string; type: string }): Promise<void> {
      transaction(db, () => {
        if (!scripts.get(accountId, name)) throw notFoundScript(name);
        editBindingsAndDeploy(
          accountId,
          name,
          (bs) => [...bs.filter((b) => b.name !== secret.name), { type: "secret_text", name: secret.name, text: secret.text }],
          "secret",
        );
      });
      await deps.notify(accountId);
    },

    async deleteSecret(accountId: string, name: string, secretName: string): Promise<void> {
      transaction(db, () => {
        if (!scripts.get(accountId, name)) throw notFoundScript(name);
        const latest = scripts.latestVersion(accountId, name);
        if (!latest?.bindings.some((b) => b.type === "secret_text" && b.name === secretName)) {
          throw new CfApiError(404, CF_CODES.SECRET_NOT_FOUND, `Secret "${secretName}" does not exist on Worker ${name}.`);
        }
        editBindingsAndDeploy(accountId, name, (bs) => bs.filter((b) => b.name !== secretName), "secret");
      });
      await deps.notify(accountId);
    },

    /** Merge-patch of secrets: `{A: {name,text,type}}` sets, `{B: null}` deletes. */
    async bulkSecrets(accountId: string, name: string, patch: Record<string, { text: string; type?: string } | null>): Promise<void> {
      transaction(db, () => {
        if (!scripts.get(accountId, name)) throw notFoundScript(name);
        editBindingsAndDeploy(
          accountId,
          name,
          (bs) => {
            let out = bs;
            for (const [key, value] of Object.entries(patch)) {
              out = out.filter((b) => b.name !== key);
              if (value !== null) out.push({ type: "secret_text", name: key, text: value.text });
            }
            return out;
          },
          "secret",
        );
      });
      await deps.notify(accountId);
    },

    /**
     * PATCH /workers/workers/:name/versions/latest (`wrangler versions secret put|bulk|delete` since
     * 4.1xx): a new version copying the newest one with the secrets merge-patched, not deployed, so
     * (unlike `secret put`) it is allowed while a split or an undeployed version is live.
     */
    patchLatestVersionSecrets(
      accountId: string,
      name: string,
      patch: Record<string, { text: string } | null>,
      annotations: Record<string, string>,
    ): Version {
      return transaction(db, () => {
        if (!scripts.get(accountId, name)) throw notFoundScript(name);
        const latest = scripts.latestVersion(accountId, name);
        if (!latest) throw new CfApiError(404, CF_CODES.NO_VERSIONS, `Worker ${name} has no uploaded versions.`);
        return copyVersion(
          accountId,
          name,
          latest,
          (bs) => {
            let out = bs;
            for (const [key, value] of Object.entries(patch)) {
              out = out.filter((b) => b.name !== key);
              if (value !== null) out.push({ type: "secret_text", name: key, text: value.text });
            }
            return out;
          },
          { "workers/triggered_by": "version_upload", ...annotations },
        );
      });
    },

    /**
     * PATCH /settings (multipart `settings`), the versioned settings endpoint: bindings given as
     * {type,name} only mean "keep as is"; refused with 10214 (not 10215) while the latest version
     * is not the one deployed at 100%.
     */
    async patchSettings(accountId: string, name: string, settings: { bindings?: Binding[] } & Record<string, unknown>): Promise<void> {
      transaction(db, () => {
        const script = scripts.get(accountId, name);
        if (!script) throw notFoundScript(name);
        const scriptLevel = Object.fromEntries(SCRIPT_LEVEL_SETTINGS.filter((k) => settings[k] !== undefined).map((k) => [k, settings[k]]));
        if (!settings.bindings) {
          if (Object.keys(scriptLevel).length > 0) {
            assertLatestDeployed(accountId, name, { code: CF_CODES.SETTINGS_LATEST_NOT_DEPLOYED, message: SETTINGS_NOT_DEPLOYED_MESSAGE });
            scripts.update({ ...script, settings: { ...script.settings, ...scriptLevel } });
          }
          return;
        }
        if (Object.keys(scriptLevel).length > 0) scripts.update({ ...script, settings: { ...script.settings, ...scriptLevel } });
        editBindingsAndDeploy(
          accountId,
          name,
          (bs) => {
            const out: Binding[] = [];
            for (const b of settings.bindings!) {
              const keys = Object.keys(b).filter((k) => k !== "type" && k !== "name");
              if (keys.length === 0) {
                const prev = bs.find((p) => p.name === b.name);
                if (prev) out.push(prev);
              } else out.push(b);
            }
            return out;
          },
          "secret",
          { code: CF_CODES.SETTINGS_LATEST_NOT_DEPLOYED, message: SETTINGS_NOT_DEPLOYED_MESSAGE },
        );
      });
      await deps.notify(accountId);
    },

    async deleteScript(accountId: string, name: string): Promise<void> {
      transaction(db, () => {
        if (!scripts.get(accountId, name)) throw notFoundScript(name);
        extras.deleteOfScript(accountId, name);
        dos.deleteOfScript(accountId, name);
        deps.stores.routes.deleteRoutesOfScript(accountId, name);
        deps.stores.routes.deleteDomainsOfScript(accountId, name);
        scripts.delete(accountId, name);
      });
      await deps.notify(accountId);
    },
  };
}
export type Ops = ReturnType<typeof createOps>;
