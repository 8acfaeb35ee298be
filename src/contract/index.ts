// The contract: what the daemon's API says, runtime-neutral (zod and kit only; it runs in Node, in
// the dashboard's browser bundle, and could run in a Worker). The API validates and documents with
// it; the one daemon client (src/client) and every client on top of it (CLI, MCP server,
// dashboard) read with it. The lists of states (statuses.ts) and the typed event map (events.ts)
// are the only ones in the tree.
export * from "./statuses.ts";
export * from "./pages.ts";
export * from "./events.ts";
export * from "./error-body.ts";
export * from "./releases.ts";
export { rollbackPreviewLines } from "./rollback-preview-text.ts";
export { shownText } from "./line-of-text.ts";
export * from "./release-control.ts";
export * from "./diff.ts";
export * from "./fleet.ts";
export * from "./security.ts";
export * from "./audit.ts";
export * from "./backups.ts";
export * from "./config-sync.ts";
export * from "./created-by.ts";
export * from "./tunnel.ts";
export * from "./setup.ts";
export * from "./meta.ts";
export * from "./deployment-kit.ts";
export * from "./agent.ts";
export * from "./fleet-logs.ts";
export * from "./fleet-metrics.ts";
export { NAMED_SCHEMAS } from "./named.ts";
