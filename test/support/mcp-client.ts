// The MCP tests' client: the official SDK's Client spawning the real `cbo mcp` over stdio, with the
// token in CBO_TOKEN (never on the command line), and the daemon those tests run it against.
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { startDaemon, type Daemon, type DaemonOptions } from "../../src/daemon.ts";
import { testMasterKey } from "./api-fixtures.ts";
import { CBO_BIN, cboEnv } from "./run-cbo.ts";

export type McpSession = { client: Client; stderr: () => string; errors: Error[]; close(): Promise<void> };

/**
 * `cbo mcp --url url` as the holder of `token`; `name` is the client's name in the handshake;
 * `secretFiles`: its --secret-files directory (secret_rotate's from_file reads only there).
 */
export async function connectMcp(
  url: string,
  token: string,
  name = "cbo-mcp-test",
  opts: { secretFiles?: string } = {},
): Promise<McpSession> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CBO_BIN, "mcp", "--url", url, ...(opts.secretFiles ? ["--secret-files", opts.secretFiles] : [])],
    env: cboEnv({ CBO_TOKEN: token }) as Record<string, string>,
    stderr: "pipe",
  });
  let err = "";
  transport.stderr?.on("data", (c: Buffer) => (err += c.toString("utf8")));
  const client = new Client({ name, version: "1.0.0" });
  const errors: Error[] = [];
  client.onerror = (e) => errors.push(e);
  await client.connect(transport);
  return { client, stderr: () => err, errors, close: () => client.close() };
}

/** The text parts of a tool's answer (the summary first, then the data as JSON where it has any). */
export const texts = (r: CallToolResult) => r.content.flatMap((c) => (c.type === "text" ? [c.text] : []));

/** An in-process daemon as the MCP tests run it: test master key, a monitor every 500 ms, no log unless `log`. */
export function startMcpDaemon(
  dir: string,
  configFile: string,
  edge: DaemonOptions["edge"],
  log: DaemonOptions["log"] = () => {},
): Promise<Daemon> {
  return startDaemon({ dataDir: join(dir, "data"), configFile, port: 0, edge, masterKey: testMasterKey(), log, monitorIntervalMs: 500 });
}
