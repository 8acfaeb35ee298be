// Cloudflare Tunnel for the daemon: create the tunnel and its ingress, keep cloudflared's files,
// supervise the connector, and decide where the daemon may listen.
export { createTunnelManager, type TunnelConfigView, type TunnelManager, type TunnelManagerOptions } from "./manager.ts";
export { checkBind, isLoopbackHost } from "./bind-policy.ts";
export { buildIngress, ingressService, publicUrlOf, AGENT_PATHS } from "./ingress.ts";
export { installHint } from "./find-binary.ts";
export type * from "./types.ts";
export { PROCESS_STATES } from "./types.ts";
