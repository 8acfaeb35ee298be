// `cbo mcp`: a stdio MCP server (src/mcp) for AI agents, acting on the daemon's REST API with the
// agent's own token. stdout carries the protocol only: everything else goes to stderr.
import { CboError } from "../../kit/errors.ts";
import { mcpClient } from "../../mcp/connect.ts";
import { droppedAnswer, lineLimit, MAX_MCP_MESSAGE_BYTES } from "../../mcp/line-limit.ts";
import { createMcpServer } from "../../mcp/server.ts";
import { secretFilesDir } from "../../mcp/secret-value.ts";
import { agentToken } from "../../mcp/token.ts";
import { parse } from "../args.ts";
import { discoverUrl } from "../discover.ts";
import { asInvoked, packageVersion } from "../invocation.ts";
import { readTokenFile } from "../token-file.ts";
import { usageOf } from "../usage/index.ts";

const USAGE = usageOf("mcp");

export async function mcpCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    { url: { type: "string" }, data: { type: "string" }, "token-file": { type: "string" }, "secret-files": { type: "string" } },
    USAGE,
  );
  if (positionals.length > 0) throw new CboError("ERR_USAGE", "cbo mcp takes no arguments.", { hint: USAGE });
  const agent = agentToken({ tokenFile: values["token-file"], env: process.env, readTokenFile });
  // Each names a `cbo` command: said the way it runs here (`npx cbo …` unless cbo is on PATH), as hints are.
  for (const w of agent.warnings) process.stderr.write(`cbo mcp: warning: ${asInvoked(w)}\n`);
  // Discovery only finds the URL: the data directory's admin-token is not read.
  const { url } = discoverUrl({ url: values.url, data: values.data });
  const api = mcpClient({ url, token: agent.token });
  const filesFrom = values["secret-files"] ?? process.env["CBO_MCP_SECRET_FILES"];
  const secretFiles = filesFrom ? secretFilesDir(filesFrom) : undefined;

  const { StdioServerTransport } = await import("@modelcontextprotocol/sdk/server/stdio.js");
  const server = createMcpServer({ api, version: packageVersion(), ...(secretFiles ? { secretFilesDir: secretFiles } : {}) });
  // Every message through the line limit (line-limit.ts): an oversized one is answered and dropped
  // instead of closing the session.
  const input = process.stdin.pipe(
    lineLimit(MAX_MCP_MESSAGE_BYTES, (d) => {
      process.stderr.write(`cbo mcp: a ${d.bytes}-byte message was dropped (the limit is ${MAX_MCP_MESSAGE_BYTES})\n`);
      if (d.id !== null) process.stdout.write(droppedAnswer(d, MAX_MCP_MESSAGE_BYTES));
    }),
  );
  const transport = new StdioServerTransport(input);
  const closed = new Promise<void>((resolve) => {
    server.server.onclose = () => resolve();
    // The client going away (stdin closed) ends the server too.
    process.stdin.once("end", () => void server.close().finally(resolve));
  });
  await server.connect(transport);
  process.stderr.write(
    `cbo mcp: serving on stdio for ${url} (token from ${agent.source}; secret_rotate reads files ${secretFiles ? `from ${secretFiles} only` : "from nowhere (no --secret-files)"})\n`,
  );
  await closed;
  return 0;
}
