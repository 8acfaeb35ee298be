// Which token `cbo mcp` acts with. An agent acts with a token made for it (role `agent`, its own
// name in the audit log), given explicitly: --token-file FILE, else CBO_TOKEN_FILE, else CBO_TOKEN
// (the CLI's names and order; the CLI's reader refuses a file others can read). The data
// directory's admin-token is never picked up by default, and an admin token given explicitly is
// used with a warning: an agent holding it could read secret values and mint tokens.
import { CboError } from "../kit/errors.ts";

export type AgentToken = { token: string; source: "CBO_TOKEN" | "CBO_TOKEN_FILE" | "--token-file"; warnings: string[] };

const ROLE_PREFIX = /^cbo_(admin|deployer|viewer|agent|metrics)_/;

/** The role a token was made with, from its prefix (`cbo_<role>_…`); undefined for other shapes. */
export function tokenRole(token: string): string | undefined {
  return ROLE_PREFIX.exec(token)?.[1];
}

export function agentToken(opts: {
  tokenFile?: string | undefined;
  env: Record<string, string | undefined>;
  /** Reads a token file, refusing one others can read (the CLI's token-file.ts). */
  readTokenFile: (file: string, from: string) => string;
}): AgentToken {
  const warnings: string[] = [];
  let token: string;
  let source: AgentToken["source"];
  if (opts.tokenFile !== undefined) {
    token = opts.readTokenFile(opts.tokenFile, "--token-file");
    source = "--token-file";
  } else if (opts.env.CBO_TOKEN_FILE) {
    token = opts.readTokenFile(opts.env.CBO_TOKEN_FILE, "CBO_TOKEN_FILE");
    source = "CBO_TOKEN_FILE";
  } else if (opts.env.CBO_TOKEN) {
    token = opts.env.CBO_TOKEN.trim();
    source = "CBO_TOKEN";
  } else {
    throw new CboError(
      "ERR_USAGE",
      "cbo mcp needs the agent's own token: pass --token-file FILE, or set CBO_TOKEN_FILE or CBO_TOKEN (the admin token is never used by default).",
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
