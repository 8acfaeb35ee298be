// Public surface of the API: the app factory and the server that serves it. The security services
// it is built over (vault, audit log, signing key) are src/security's.
export { createApi, API_VERSION, type Api } from "./app.ts";
export { startApiServer, isLoopback, type ApiServer } from "./server.ts";
export { CLOSE as STREAM_CLOSE_CODES } from "./stream-clients.ts";
export type { RateLimitOptions } from "./rate-limit.ts";
export { parseAllowedHosts } from "./host-allowlist.ts";
export type { ApiDeps, ApiMonitor, Principal, StreamOptions } from "./types.ts";
