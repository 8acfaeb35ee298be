// One isolate's agent: its bindings, counters, config, heartbeats and relay client, built on the
// first request (Workers allow no random values or I/O at import time) and kept for the isolate's
// life. Each feature exists only when its bindings do.
import { createNonceCache, type NonceCache } from "../kit/signing/index.ts";
import { createConfigSync, type ConfigSync } from "./config-sync.ts";
import { createHeartbeats, type Heartbeats } from "./heartbeats.ts";
import { createRejectionLog, type RejectionLog } from "./rejections.ts";
import { createRelayClient, type RelayClient } from "./relay-client.ts";
import { readSettings, type AgentSettings } from "./settings.ts";
import { createTraffic, type Traffic } from "./traffic.ts";
import type { AgentEnv, ConfigParser, EdgeAgentOptions } from "./types.ts";
import { createTraceLog, type TraceLog } from "./traces.ts";

export const DEFAULT_HEARTBEAT_INTERVAL_MS = 30_000;
export const DEFAULT_CONFIG_REFRESH_MS = 30_000;

export type WaitUntil = (promise: Promise<unknown>) => void;

export type AgentRuntime<C> = {
  settings: AgentSettings;
  isolate: string;
  startedAt: number;
  traffic: Traffic;
  rejections: RejectionLog;
  /** Spans of traced requests, for the next heartbeats (traces.ts). */
  traces: TraceLog;
  nonceCache: NonceCache;
  config: ConfigSync<C> | undefined;
  heartbeats: Heartbeats | undefined;
  relay: RelayClient | undefined;
  /** Is background work due (a KV re-read, a heartbeat)? Cheap and allocation-free: most requests have none. */
  due(): boolean;
  /** Starts the due work on the request's waitUntil. */
  runDue(waitUntil: WaitUntil): void;
  /**
   * Runs a config read (a refresh, or a poke's refreshUntil) and, when it applied a new version or
   * refused a bundle, sends a heartbeat at once instead of at the next interval: the orchestrator
   * then knows within a round trip what this isolate runs, and raises a rejection without delay.
   */
  syncAndReport(read: () => Promise<void>): Promise<void>;
};

const anyObject = { safeParse: (input: unknown) => ({ success: true as const, data: input }) };
const warn = (message: string) => console.warn(message);

export async function startRuntime<C>(env: AgentEnv, options: EdgeAgentOptions<C>): Promise<AgentRuntime<C>> {
  const now = Date.now;
  const startedAt = now();
  const settings = await readSettings(env);
  const { worker, target, kv, publicKey, orchestratorUrl, workerKey, hmacKeys } = settings;
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const traffic = createTraffic(startedAt);
  const rejections = createRejectionLog();
  const traces = createTraceLog(now);
  const isolate = crypto.randomUUID();
  const refreshMs = options.configRefreshMs ?? DEFAULT_CONFIG_REFRESH_MS;

  const config =
    worker && target && kv && publicKey
      ? createConfigSync<C>({
          kv,
          worker,
          target,
          publicKey,
          parseConfig: options.configSchema ?? (anyObject as ConfigParser<C>),
          rejections,
          now,
          warn,
        })
      : undefined;
  const heartbeats =
    worker && target && orchestratorUrl && hmacKeys[0] && workerKey
      ? createHeartbeats({
          orchestratorUrl,
          key: hmacKeys[0],
          intervalMs: options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS,
          traffic,
          rejections,
          traces,
          describe: () => ({
            worker,
            target,
            versionId: settings.versionId,
            configVersion: config?.applied()?.payload.version ?? null,
            isolate,
            uptimeMs: Math.max(0, now() - startedAt),
            totals: traffic.totals(),
          }),
          // The orchestrator gave this target a config version we do not run: a poke was missed.
          onAnswer: ({ configVersion }) => {
            if (config && configVersion !== null && configVersion !== config.applied()?.payload.version)
              return config.refreshUntil(configVersion);
          },
          now,
          fetch: doFetch,
          warn,
        })
      : undefined;
  const relay =
    worker && target && orchestratorUrl && workerKey
      ? createRelayClient({
          orchestratorUrl,
          worker,
          target,
          workerKey,
          versionId: settings.versionId,
          pins: settings.secretVersions,
          now,
          fetch: doFetch,
        })
      : undefined;

  await config?.load();

  return {
    settings,
    isolate,
    startedAt,
    traffic,
    rejections,
    traces,
    nonceCache: createNonceCache(),
    config,
    heartbeats,
    relay,
    due() {
      const t = now();
      return (config !== undefined && !config.refreshing() && t - config.checkedAt() >= refreshMs) || heartbeats?.due(t) === true;
    },
    runDue(waitUntil) {
      if (config && !config.refreshing() && now() - config.checkedAt() >= refreshMs) waitUntil(syncAndReport(() => config.refresh()));
      const beat = heartbeats?.maybeSend();
      if (beat) waitUntil(beat);
    },
    syncAndReport,
  };

  async function syncAndReport(read: () => Promise<void>): Promise<void> {
    const before = { version: config?.applied()?.payload.version, refused: rejections.total() };
    await read();
    const changed = config?.applied()?.payload.version !== before.version || rejections.total() !== before.refused;
    if (changed) await heartbeats?.send();
  }
}
