// The one daemon client (see daemon-client.ts): browser-safe, on the contract.
export { createDaemonClient, type DaemonClient, type DaemonClientOptions } from "./daemon-client.ts";
export { allItems, pages } from "./pages.ts";
export { daemonDown, errorFromResponse, newTraceparent, query, requestJson, requestRaw, type Connection } from "./request.ts";
export {
  connectEvents,
  followEvents,
  globalSocket,
  streamProtocols,
  streamEvents,
  type EventHandlers,
  type FollowOptions,
  type OpenSocket,
  type SocketEvents,
  type StreamSource,
} from "./event-stream.ts";
export { connectLogs, followLogs, type FollowLogsOptions, type LogHandlers } from "./log-stream.ts";
