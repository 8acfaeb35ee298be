// Config sync: publish signed, versioned config bundles to every target of a worker, poke the
// Workers, and record what each one reports applying.
//
//   publish(worker): desired configs (merge.ts) ──new version N──> per target: sign bundle
//     {worker, target, version N, config} ──KV put config/<worker>──> config_targets(N, written)
//     ──poke──> agent re-reads KV ──heartbeat {configVersion: N}──> config_targets.applied_at
//   A target whose write failed keeps its old bundle; the next publish (even with no change)
//   writes it again. A failed poke changes nothing: the agent's polling picks N up.
//   resumeLagging(): on the daemon's start, the latest version written again (same version, same
//   config; no new version) to each target that does not hold it: a publish cut off by a kill -9
//   (written to some targets, not others) or a write that failed is finished without anyone
//   having to publish again (config.resumed).
//   rollback(worker, K): K's configs again, as version N+1 marked rollback (agents accept it even
//     though it may not be "newer" in content; a later publish moves on from N+1).
import { createHash } from "node:crypto";
import type { ResolvedSpec, ResolvedWorker } from "../config/load.ts";
import { ensureConfigNamespace } from "../targets/kv-namespaces.ts";
import type { TargetRuntime } from "../targets/types.ts";
import { workerEndpoint } from "../targets/worker-endpoint.ts";
import { CboError } from "../kit/errors.ts";
import { canonicalJson } from "../kit/protocol/canonical-json.ts";
import { configKvKey } from "../kit/protocol/bindings.ts";
import { signConfigBundle } from "../kit/protocol/config-bundle.ts";
import type { CryptoKey } from "../kit/signing/index.ts";
import type { ConfigVersionRow, Store } from "../store/index.ts";
import type { AuditedConfigChange, ConfigChange } from "../contract/index.ts";
import { auditedChanges, configChanges } from "./config-changes.ts";
import { configsFor } from "./merge.ts";
import { sendPoke } from "./send-poke.ts";
import { type Logger, silentLogger, span } from "../telemetry/index.ts";
import { oneAtATime } from "../kit/one-at-a-time.ts";

export type ConfigSyncDeps = {
  store: Store;
  spec: () => ResolvedSpec;
  targets: () => Map<string, TargetRuntime>;
  signer: { privateKey: CryptoKey; keyId: string };
  /** Keys that verify for this Worker on this target now (a poke is signed with all of them). */
  workerKeys: (tenant: string, worker: string, target: string) => Uint8Array[];
  /**
   * Records the publish on the audit log; throwing refuses it before anything is written. `changes`:
   * per target, each key path against the version published before (config-changes.ts, bounded).
   */
  audit?: (entry: {
    by: string;
    worker: string;
    version: number;
    rollbackOf: number | null;
    hash: string;
    targets: string[];
    changes: AuditedConfigChange[];
    moreChanges: number;
  }) => void;
  log?: Logger;
};

export type TargetOutcome = { target: string; version: number; written: boolean; poke: string; error?: string };
export type PublishResult = { worker: string; version: number; hash: string; rollbackOf: number | null; targets: TargetOutcome[] };
export type DiffEntry = {
  target: string;
  published: { version: number; config: Record<string, unknown> } | null;
  desired: Record<string, unknown>;
  changed: boolean;
  /** Each key path that differs, with its published and desired value. */
  changes: ConfigChange[];
  written: number | null;
  applied: boolean;
};

const hashOf = (configs: Record<string, unknown>) => createHash("sha256").update(canonicalJson(configs)).digest("hex");

export function createConfigSync(deps: ConfigSyncDeps) {
  const { store } = deps;
  const log = deps.log ?? silentLogger;
  // One config change per worker at a time: publish, rollback and the start's resume each read the
  // latest version and then write every target; two at once could land the older one's KV writes
  // last, leaving targets (and the store's record of them) behind what agents already applied.
  const perWorker = oneAtATime();
  const keyOf = (w: ResolvedWorker) => `${w.tenant}/${w.name}`;

  function workerOf(name: string): ResolvedWorker {
    const spec = deps.spec();
    const w = spec.workers.find((x) => x.name === name);
    if (!w)
      throw new CboError("ERR_NOT_FOUND", `No worker named "${name}" in ${spec.file}.`, {
        details: { known: spec.workers.map((x) => x.name) },
      });
    if (!w.agent)
      throw new CboError("ERR_VALIDATION", `Worker ${name} does not run the edge agent, so it has no config to publish.`, {
        hint: "Give it a `config:` section (or `agent: true`) in orchestrator.yaml, and release it.",
      });
    return w;
  }

  async function writeTarget(
    w: ResolvedWorker,
    target: string,
    version: number,
    config: Record<string, unknown>,
    rollback: boolean,
    poke = true,
  ): Promise<TargetOutcome> {
    const runtime = deps.targets().get(target);
    const spec = deps.spec();
    if (!runtime) return { target, version, written: false, poke: "skipped", error: `target ${target} is not configured` };
    const issuedAt = new Date().toISOString();
    try {
      const ns = await ensureConfigNamespace(runtime, spec.targets.find((t) => t.name === target)?.kv_namespace);
      const bundle = await signConfigBundle({ worker: w.name, target, version, config, rollback, issuedAt }, deps.signer.privateKey, {
        keyId: deps.signer.keyId,
      });
      await runtime.client.putKvValue(ns, configKvKey(w.name), JSON.stringify(bundle));
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      store.events.append({ tenant: w.tenant, type: "config.write_failed", worker: w.name, target, data: { version, error } });
      return { target, version, written: false, poke: "skipped", error };
    }
    store.configs.setTarget({
      tenant: w.tenant,
      worker: w.name,
      target,
      version,
      issued_at: issuedAt,
      written_at: new Date().toISOString(),
    });
    if (!poke) return { target, version, written: true, poke: "skipped: polling only" };
    const poked = await sendPoke(
      workerEndpoint(runtime, w),
      { worker: w.name, target, configVersion: version },
      deps.workerKeys(w.tenant, w.name, target),
    );
    store.configs.setPoke(w.tenant, w.name, target, version, poked);
    if (poked !== "ok") log.warn(`config ${w.name}@${target} v${version}: poke ${poked}; the agent's polling will pick it up`);
    return { target, version, written: true, poke: poked };
  }

  async function publishConfigs(
    w: ResolvedWorker,
    configs: Record<string, Record<string, unknown>>,
    by: string,
    rollbackOf: number | null,
    only: string[],
    poke = true,
  ): Promise<PublishResult> {
    return span("config.publish", { "cbo.worker": w.name, "cbo.rollback_of": rollbackOf ?? undefined }, async (s) => {
      const hash = hashOf(configs);
      const version = store.configs.nextVersion(w.tenant, w.name);
      s.setAttribute("cbo.config_version", version);
      // What each target's config was (the latest version) and becomes: the values, not only the hash.
      const previous = store.configs.latest(w.tenant, w.name)?.configs ?? {};
      const { changes, more: moreChanges } = auditedChanges(
        only.map((target) => ({ target, changes: configChanges(previous[target], configs[target] ?? {}) })),
      );
      // On the record first: a publish that cannot be audited does not happen.
      deps.audit?.({ by, worker: w.name, version, rollbackOf, hash, targets: only, changes, moreChanges });
      store.configs.insertVersion({ tenant: w.tenant, worker: w.name, version, hash, configs, rollback_of: rollbackOf, created_by: by });
      const targets = await Promise.all(only.map((t) => writeTarget(w, t, version, configs[t] ?? {}, rollbackOf !== null, poke)));
      store.events.append({
        tenant: w.tenant,
        type: "config.published",
        worker: w.name,
        data: { version, hash, by, rollbackOf, targets: targets.map((t) => ({ target: t.target, written: t.written, poke: t.poke })) },
      });
      return { worker: w.name, version, hash, rollbackOf, targets };
    });
  }

  /** The latest version written again to `only` (same version and config, signed again), poked. */
  async function writeLatestAgain(w: ResolvedWorker, latest: ConfigVersionRow, only: string[]): Promise<PublishResult> {
    const targets = await Promise.all(
      only.map((t) => writeTarget(w, t, latest.version, latest.configs[t] ?? {}, latest.rollback_of !== null)),
    );
    return { worker: w.name, version: latest.version, hash: latest.hash, rollbackOf: latest.rollback_of, targets };
  }

  /** resumeLagging for one worker: its latest version written again where it is missing, or undefined. */
  async function resumeWorker(w: ResolvedWorker): Promise<PublishResult | undefined> {
    const latest = store.configs.latest(w.tenant, w.name);
    if (!latest) return undefined;
    const written = new Map(store.configs.targets(w.tenant, w.name).map((t) => [t.target, t.version]));
    const lagging = w.targets.filter((t) => t in latest.configs && written.get(t) !== latest.version);
    if (lagging.length === 0) return undefined;
    const r = await writeLatestAgain(w, latest, lagging);
    store.events.append({
      tenant: w.tenant,
      type: "config.resumed",
      worker: w.name,
      data: {
        version: r.version,
        hash: r.hash,
        targets: r.targets.map((t) => ({ target: t.target, written: t.written, poke: t.poke, from: written.get(t.target) ?? null })),
      },
    });
    const done = r.targets.filter((t) => t.written).map((t) => t.target);
    const failed = r.targets.filter((t) => !t.written).map((t) => t.target);
    log.info(
      `config ${w.name} v${r.version}: written again to ${done.join(", ") || "no target"} (a publish cut off or failed there)` +
        (failed.length ? `; still not written to ${failed.join(", ")}: \`cbo config publish ${w.name}\` tries again` : ""),
    );
    return r;
  }

  const sync = {
    /** Per target: what was published last, what the spec wants now, and whether an agent runs it. */
    diff(worker: string): DiffEntry[] {
      const w = workerOf(worker);
      const desired = configsFor(w, deps.spec().targets);
      const latest = store.configs.latest(w.tenant, w.name);
      const given = new Map(store.configs.targets(w.tenant, w.name).map((t) => [t.target, t]));
      return w.targets.map((target) => {
        const pub = latest && target in latest.configs ? { version: latest.version, config: latest.configs[target]! } : null;
        const g = given.get(target);
        return {
          target,
          published: pub,
          desired: desired[target]!,
          changed: pub === null || canonicalJson(pub.config) !== canonicalJson(desired[target]),
          changes: configChanges(pub?.config, desired[target]),
          written: g?.version ?? null,
          applied: g?.applied_at != null && g.version === latest?.version,
        };
      });
    },

    /**
     * Publishes the spec's config as a new version when it changed (or `force`); with no change,
     * writes only to targets that do not hold the latest version yet (a failed earlier write).
     */
    async publish(
      worker: string,
      opts: {
        by: string;
        force?: boolean /** false: write only, leave it to the agents' polling (benchmarks, lost pokes). */;
        poke?: boolean;
      },
    ): Promise<PublishResult> {
      const w = workerOf(worker);
      return perWorker(keyOf(w), async () => {
        const diff = sync.diff(worker);
        const latest = store.configs.latest(w.tenant, w.name);
        if (!opts.force && latest && diff.every((d) => !d.changed)) {
          const lagging = diff.filter((d) => d.written !== latest.version).map((d) => d.target);
          if (lagging.length === 0) {
            throw new CboError(
              "ERR_CONFLICT",
              `Config of ${worker} is unchanged since version ${latest.version}, and every target holds it.`,
              {
                details: { version: latest.version },
                hint: "Edit `config:` in orchestrator.yaml, or pass --force to re-sign and re-send it.",
              },
            );
          }
          return writeLatestAgain(w, latest, lagging);
        }
        return publishConfigs(w, Object.fromEntries(diff.map((d) => [d.target, d.desired])), opts.by, null, w.targets, opts.poke ?? true);
      });
    },

    /** Sends an earlier version's configs again, as a new version that agents accept as a rollback. */
    async rollback(worker: string, to: number, opts: { by: string }): Promise<PublishResult> {
      const w = workerOf(worker);
      return perWorker(keyOf(w), async () => {
        const old = store.configs.version(w.tenant, w.name, to);
        if (!old)
          throw new CboError("ERR_NOT_FOUND", `Worker ${worker} has no config version ${to}.`, {
            hint: `cbo config history ${worker} lists them.`,
          });
        return publishConfigs(
          w,
          old.configs,
          opts.by,
          to,
          w.targets.filter((t) => t in old.configs),
        );
      });
    },

    /**
     * Per worker of the spec that runs the agent: the latest published version written again to
     * each of its targets (of that version) whose KV does not hold it, with a config.resumed event.
     * What the store says was written is what counts: a target written but not recorded (a kill
     * between the two) is written again, which is harmless (same version, same config).
     */
    async resumeLagging(): Promise<PublishResult[]> {
      const out: PublishResult[] = [];
      for (const w of deps.spec().workers) {
        if (!w.agent) continue;
        const r = await perWorker(keyOf(w), () => resumeWorker(w));
        if (r) out.push(r);
      }
      return out;
    },

    history(worker: string, limit = 100): ConfigVersionRow[] {
      const w = workerOf(worker);
      return store.configs.history(w.tenant, w.name, limit);
    },
  };
  return sync;
}
export type ConfigSync = ReturnType<typeof createConfigSync>;
