// The edge agent's public types. The bindings come from the protocol's fixed names; every one is
// optional, because a Worker may run the agent before the orchestrator gives it all of them (the
// agent then turns the matching feature off and says why in its health).
import type { AGENT_BINDINGS } from "../kit/protocol/index.ts";

type B = typeof AGENT_BINDINGS;

/** The KV calls the agent makes (a KVNamespace binding has them). */
export type ConfigKv = {
  get(key: string): Promise<string | null>;
  put(key: string, value: string): Promise<void>;
};

export type AgentEnv = {
  [K in B["worker"] | B["target"] | B["orchestratorUrl"] | B["publicKey"] | B["workerKey"] | B["previousWorkerKey"]]?: string;
} & {
  [K in B["secretVersions"]]?: Record<string, number> | string;
} & {
  [K in B["version"]]?: { id: string; tag?: string; timestamp?: string };
} & {
  [K in B["config"]]?: ConfigKv;
};

/** What a config schema must offer: a zod schema has it, and so can anything else. */
export type ConfigParser<C> = {
  safeParse(input: unknown): { success: true; data: C } | { success: false };
};

export type EdgeAgentOptions<C> = {
  /** Checks the signed config object; a bundle that fails it is refused as `invalid_config`. */
  configSchema?: ConfigParser<C>;
  /** Request-driven heartbeats: at most one per this many ms per isolate (default 30 s). */
  heartbeatIntervalMs?: number;
  /** Polling fallback: KV is re-read, in the background, at most this often (default 30 s). */
  configRefreshMs?: number;
  /** How calls to the orchestrator go out (default: the global fetch). */
  fetch?: typeof fetch;
};

/** A config rejection as health and heartbeats report it. */
export type RejectionEntry = { reason: string; version?: number; at: string };
