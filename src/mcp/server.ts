// `cbo mcp`: the orchestrator as MCP tools (official TypeScript SDK) over the daemon's REST API.
// Each tool answers with a sentence for the agent and the JSON behind it. Outcomes:
//   done                -> the result;
//   needs_confirmation  -> isError, "NOT DONE", what would happen, how to confirm (nothing changed);
//   CboError            -> isError, `error ERR_X: message` and a hint (never the token).
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { toCboError } from "../kit/errors.ts";
import type { DaemonClient } from "../client/index.ts";
import type { AnyTool, ToolOutcome } from "./tool.ts";
import { READ_TOOLS } from "./tools-read.ts";
import { WRITE_TOOLS } from "./tools-write.ts";
import { D1_TOOLS } from "./tools-d1.ts";
import { RELEASE_TOOLS } from "./tools-releases.ts";
import { SECRET_TOOLS } from "./tools-secrets.ts";

export const MCP_TOOLS: AnyTool[] = [...READ_TOOLS, ...RELEASE_TOOLS, ...SECRET_TOOLS, ...WRITE_TOOLS, ...D1_TOOLS];

const INSTRUCTIONS = `Tools for the operator's Clawdbot Orchestrator (Cloudflare Workers releases, config, secrets, audit).
Read first: status (what runs where), plan and diff (what a release would do), releases and release_show (what ran, why
it failed), versions (ids to roll back to), secrets (names and versions), config_diff, audit_search.
Mutating tools (release, rollback, release_control, config_publish, secret_rotate, d1_restore) do nothing without
confirm: true: call them without it to learn what they would do, tell the user, and set confirm only after the user
explicitly agreed to that exact action. Never pass or ask for a secret value: secret_rotate takes a file path or
generates one. Not for agents (the operator runs them): backups (cbo backup), tokens (cbo tokens), verifying the
audit chain (cbo audit verify). Everything is recorded in the audit log under this agent's token.`;

export function createMcpServer(opts: { api: DaemonClient; version: string; tools?: AnyTool[]; secretFilesDir?: string }): McpServer {
  const server = new McpServer({ name: "clawdbot-orchestrator", version: opts.version }, { instructions: INSTRUCTIONS });
  for (const tool of opts.tools ?? MCP_TOOLS) {
    server.registerTool(
      tool.name,
      {
        title: tool.title,
        description: tool.description,
        inputSchema: tool.input,
        annotations: tool.mutating
          ? { title: tool.title, readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true }
          : { title: tool.title, readOnlyHint: true, openWorldHint: false },
      },
      async (args: Record<string, unknown>, extra): Promise<CallToolResult> => {
        const token = extra._meta?.progressToken;
        let sent = 0;
        const progress =
          token === undefined
            ? undefined
            : (message: string) =>
                extra
                  .sendNotification({ method: "notifications/progress", params: { progressToken: token, progress: ++sent, message } })
                  .catch(() => {}); // a client gone away is not this tool's failure
        try {
          const ctx = {
            api: opts.api.via(`mcp:${tool.name}`),
            signal: extra.signal,
            ...(progress ? { progress } : {}),
            ...(opts.secretFilesDir ? { secretFilesDir: opts.secretFilesDir } : {}),
          };
          return render(tool, await tool.run(args, ctx));
        } catch (e) {
          const err = toCboError(e);
          const lines = [
            `error ${err.code}: ${err.message}`,
            ...(err.hint ? [`hint: ${err.hint}`] : []),
            ...(err.details ? [JSON.stringify(err.details)] : []),
          ];
          return { isError: true, content: [{ type: "text", text: lines.join("\n") }] };
        }
      },
    );
  }
  return server;
}

function render(tool: AnyTool, o: ToolOutcome): CallToolResult {
  if (o.kind === "needs_confirmation") {
    const text = [
      `NOT DONE: ${tool.name} changes the fleet and was called without confirm: true. Nothing was changed.`,
      o.wouldDo,
      `Tell the user exactly this and ask; only if they explicitly agree, call ${tool.name} again with the same arguments and confirm: true.`,
    ].join("\n");
    return { isError: true, content: [{ type: "text", text }, ...(o.preview === undefined ? [] : [json(o.preview)])] };
  }
  return { content: [{ type: "text", text: o.summary }, ...(o.data === undefined ? [] : [json(o.data)])] };
}

// One line of JSON: indentation would be a third of the bytes an agent's context pays for.
const json = (value: unknown) => ({ type: "text" as const, text: JSON.stringify(value) });
