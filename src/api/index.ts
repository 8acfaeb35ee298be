// Public surface of the API: the app factory and the server that serves it, and the security
// services (vault, audit log, signing key) it is built over.
export { createApi, API_VERSION, type Api } from "./app.ts";
export { startApiServer, isLoopback, type ApiServer } from "./server.ts";
export { CLOSE as STREAM_CLOSE_CODES } from "./events-ws.ts";
export { openSecurity, type Security, type SecurityOptions } from "./security.ts";
export { actorOf } from "./audit-trail.ts";
export { ORCHESTRATOR_KEY_SECRET, RESERVED_PREFIX, type OrchestratorKeyInfo } from "./orchestrator-key.ts";
export type { RateLimitOptions } from "./rate-limit.ts";
export { parseAllowedHosts } from "./host-allowlist.ts";
export type { DenialOptions } from "./denials.ts";
export type { ApiDeps, ApiMonitor, Principal, StreamOptions } from "./types.ts";
