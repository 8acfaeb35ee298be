// Which token `cbo mcp` acts with. An agent acts with a token made for it (role `agent`, its own
// name in the audit log), given explicitly: CBO_TOKEN or --token-file. The data directory's
// admin-token is never picked up by default, and an admin token given explicitly is used with a
// warning: an agent holding it could read secret values and mint tokens.
import { closeSync, fstatSync, openSync, readFileSync } from "node:fs";
import { CboError } from "../kit/errors.ts";

export type AgentToken = { token: string; source: "CBO_TOKEN" | "--token-file"; warnings: string[] };

const ROLE_PREFIX = /^cbo_(admin|deployer|viewer|agent|metrics)_/;

/** The role a token was made with, from its prefix (`cbo_<role>_…`); undefined for other shapes. */
export function tokenRole(token: string): string | undefined {
  return ROLE_PREFIX.exec(token)?.[1];
}

export function agentToken(opts: { tokenFile?: string | undefined; env: Record<string, string | undefined> }): AgentToken {
  const warnings: string[] = [];
  let token: string;
  let source: AgentToken["source"];
  if (opts.tokenFile !== undefined) {
    token = readTokenFile(opts.tokenFile, warnings);
    source = "--token-file";
  } else if (opts.env.CBO_TOKEN) {
    token = opts.env.CBO_TOKEN.trim();
    source = "CBO_TOKEN";
  } else {
    throw new CboError(
      "ERR_USAGE",
      "cbo mcp needs the agent's own token: set CBO_TOKEN or pass --token-file FILE (the admin token is never used by default).",
      {
        hint: "Make one for the agent: cbo tokens create --name clawdbot --role agent --expires 30d",
      },
    );
  }
  if (token === "") throw new CboError("ERR_USAGE", `The token from ${source} is empty.`);
  const role = tokenRole(token);
  if (role === "admin") {
    warnings.push(
      "this is an admin token: an agent holding it can read secret values and create tokens. Give the agent its own: cbo tokens create --name clawdbot --role agent",
    );
  } else if (role !== undefined && role !== "agent") {
    warnings.push(
      `this is a ${role} token; an agent should have its own token with the agent role (cbo tokens create --name clawdbot --role agent), so that the audit log tells its actions apart`,
    );
  }
  return { token, source, warnings };
}

function readTokenFile(file: string, warnings: string[]): string {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CboError(code === "ENOENT" ? "ERR_NOT_FOUND" : "ERR_IO", `Cannot read the token file ${file} (${code ?? "error"}).`);
  }
  try {
    const st = fstatSync(fd);
    if ((st.mode & 0o077) !== 0)
      warnings.push(`${file} can be read by group or others (mode 0${(st.mode & 0o777).toString(8)}); chmod 600 ${file}`);
    return readFileSync(fd, "utf8").trim();
  } finally {
    closeSync(fd);
  }
}
