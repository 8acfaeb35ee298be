// How to name the `cbo` command to the person using it, and what version it is. After `npm
// install`, `cbo` is in node_modules/.bin, not on PATH: only `npx cbo` works, unless `npm link` (or
// a global install) put it there. Hints and next steps must be commands that run as printed.
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { COMMAND_NAMES } from "./usage/index.ts";

/**
 * "cbo" when this process was started as `cbo` from PATH (a link or a global install), else
 * "npx cbo": through npm (npx, npm start: npm_command is set) or `node bin/cbo.js`, a bare `cbo`
 * may not resolve in the user's shell.
 */
export function cboCommand(env: NodeJS.ProcessEnv = process.env, argv1: string | undefined = process.argv[1]): string {
  if (env.npm_command) return "npx cbo";
  const bin = argv1 === undefined ? "" : basename(argv1);
  return bin === "cbo" || bin === "clawdbot-orchestrator" ? "cbo" : "npx cbo";
}

// `cbo <command>` as a word of its own: not in a path (/opt/cbo up), a name (my-cbo) or `npx cbo`.
const NAMED = new RegExp(`(?<![\\w./-])(?<!npx )cbo (?=(?:${COMMAND_NAMES.join("|")}|help)\\b)`, "g");

/**
 * `text` (a hint, a next step) with every `cbo <command>` it names said the way it runs here (see
 * cboCommand). A usage text is left as it is: it is the command's grammar, and `cbo help` says how
 * to run it.
 */
export function asInvoked(text: string, cbo: string = cboCommand()): string {
  return cbo === "cbo" || text.startsWith("usage: ") ? text : text.replace(NAMED, `${cbo} `);
}

/** This package's version (package.json), for `cbo --version` and the MCP server's handshake. */
export function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version?: string }).version ?? "0.0.0";
  } catch {
    return "0.0.0";
  }
}
