// The MCP server's way to the orchestrator: the one daemon client (src/client) with the agent's own
// token and words meant for an agent (its hints say whom to ask). Each tool acts through it with
// `x-cbo-via: mcp:<tool>` (server.ts), which the daemon keeps as a detail of the audit entries the
// token writes. Failures carry the daemon's code and message, never the token or a request body.
import { createDaemonClient, newTraceparent, type DaemonClient } from "../client/index.ts";

const UNREACHABLE = "Is the daemon running (cbo up / cbo daemon), and is CBO_URL right?";

export function mcpClient(o: { url: string; token: string; timeoutMs?: number; fetch?: typeof fetch }): DaemonClient {
  return createDaemonClient({
    url: o.url,
    token: o.token,
    label: "orchestrator",
    // A trace per tool call's request: the server lives as long as the agent's session.
    traceparent: newTraceparent,
    downHint: UNREACHABLE,
    timeoutHint: UNREACHABLE,
    versionHint:
      "The daemon probably runs another cbo version than `cbo mcp`: tell the user to restart the daemon (and this MCP server) on the same version.",
    hints: {
      ERR_FORBIDDEN:
        "This agent's token may not do this. Tell the user; the operator can run the matching `cbo` command or grant a token with a higher role.",
      ERR_UNAUTHORIZED:
        "The agent's token is unknown, revoked or expired: the operator makes a new one with `cbo tokens create --role agent`.",
    },
    ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}),
    ...(o.fetch ? { fetch: o.fetch } : {}),
  });
}
