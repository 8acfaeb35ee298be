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

export const MCP_TOOLS: AnyTool[] = [...READ_TOOLS, ...WRITE_TOOLS, ...D1_TOOLS];

const INSTRUCTIONS = `Tools for the operator's Clawdbot Orchestrator (Cloudflare Workers releases, config, secrets, audit).
Read first (status, plan, diff, config_diff, audit_search). Mutating tools (release, rollback, release_control, config_publish, secret_rotate, d1_restore)
do nothing without confirm: true: call them without it to learn what they would do, tell the user, and set confirm
only after the user explicitly agreed to that exact action. Never pass or ask for a secret value: secret_rotate takes a
file path or generates one. Everything is recorded in the audit log under this agent's token.`;

export function createMcpServer(opts: { api: DaemonClient; version: string; tools?: AnyTool[] }): McpServer {
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
      async (args: Record<string, unknown>): Promise<CallToolResult> => {
        try {
          return render(tool, await tool.run(args, { api: opts.api.via(`mcp:${tool.name}`) }));
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

const json = (value: unknown) => ({ type: "text" as const, text: JSON.stringify(value, null, 2) });
