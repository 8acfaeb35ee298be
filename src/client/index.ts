// The one daemon client (see daemon-client.ts): browser-safe, on the contract.
export { createDaemonClient, type DaemonClient, type DaemonClientOptions } from "./daemon-client.ts";
export { allItems, pages } from "./pages.ts";
export {
  daemonDown,
  errorFromResponse,
  MAX_ANSWER_BYTES,
  newTraceparent,
  query,
  readAnswer,
  requestJson,
  requestRaw,
  type Connection,
} from "./request.ts";
export { connectEvents, followEvents, streamEvents, type EventHandlers, type FollowOptions } from "./event-stream.ts";
export { globalSocket, streamProtocols, type OpenSocket, type SocketEvents, type StreamSource } from "./stream-socket.ts";
export { connectLogs, followLogs, type FollowLogsOptions, type LogHandlers } from "./log-stream.ts";
