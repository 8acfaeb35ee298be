// `cbo mcp`: a stdio MCP server (src/mcp) for AI agents, acting on the daemon's REST API with the
// agent's own token. stdout carries the protocol only: everything else goes to stderr.
import { readFileSync } from "node:fs";
import { CboError } from "../../kit/errors.ts";
import { mcpClient } from "../../mcp/connect.ts";
import { createMcpServer } from "../../mcp/server.ts";
import { agentToken } from "../../mcp/token.ts";
import { parse } from "../args.ts";
import { discoverDaemon } from "../discover.ts";

const USAGE = `usage: cbo mcp [--url URL] [--data DIR] [--token-file FILE]
  a stdio MCP server for AI agents (tools: status, plan, release, rollback, config_diff, config_publish,
  secret_rotate, audit_search; mutating tools need confirm: true). The token is the agent's own:
  CBO_TOKEN or --token-file (never the admin token by default). The daemon: --url, CBO_URL, or <data>/daemon.json.`;

export async function mcpCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    { url: { type: "string" }, data: { type: "string" }, "token-file": { type: "string" } },
    USAGE,
  );
  if (values.help) {
    process.stderr.write(USAGE + "\n");
    return 0;
  }
  if (positionals.length > 0) throw new CboError("ERR_USAGE", "cbo mcp takes no arguments.", { hint: USAGE });
  const agent = agentToken({ tokenFile: values["token-file"], env: process.env });
  for (const w of agent.warnings) process.stderr.write(`cbo mcp: warning: ${w}\n`);
  // The token is given, so discovery only finds the URL: the data directory's admin-token is not read.
  const { url } = discoverDaemon({ url: values.url, data: values.data, token: agent.token });
  const api = mcpClient({ url, token: agent.token });

  const { StdioServerTransport } = await import("@modelcontextprotocol/sdk/server/stdio.js");
  const server = createMcpServer({ api, version: packageVersion() });
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    server.server.onclose = () => resolve();
    // The client going away (stdin closed) ends the server too.
    process.stdin.once("end", () => void server.close().finally(resolve));
  });
  await server.connect(transport);
  process.stderr.write(`cbo mcp: serving on stdio for ${url} (token from ${agent.source})\n`);
  await closed;
  return 0;
}

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version?: string }).version ?? "0.0.0";
  } catch {
    return "0.0.0";
  }
}
