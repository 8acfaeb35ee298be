// clawdbot-orchestrator/edge: the edge agent for Workers, and the protocol names it shares with
// the orchestrator.
export { createEdgeAgent } from "./agent.ts";
export type { EdgeAgent } from "./agent.ts";
export type { AgentVariables } from "./middleware.ts";
export type { AgentEnv, ConfigKv, ConfigParser, EdgeAgentOptions } from "./types.ts";
export { DEFAULT_CONFIG_REFRESH_MS, DEFAULT_HEARTBEAT_INTERVAL_MS } from "./runtime.ts";
export { AGENT_BINDINGS, AGENT_HEALTH_PATH, AGENT_MOUNT_PATH, AGENT_POKE_PATH } from "../kit/protocol/index.ts";
export { CboError, isCboError } from "../kit/errors.ts";
