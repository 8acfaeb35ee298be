// The command table's words: every command's usage, in the order `cbo help` lists them. main.ts
// pairs each name with the code that runs it (and a test checks the two tables hold the same
// names), so a command cannot exist without its help, and help cannot name a command that is gone.
import { EXIT_CODES_HELP } from "../exit-codes.ts";
import { config, d1, diff, events, keys, logs, plan, release, rollback, status, versions } from "./fleet.ts";
import { daemon, edge, init, kit, mcp, tunnel, up } from "./run.ts";
import { audit, backup, restore, secrets, tokens, vault } from "./security.ts";
import { renderOverviewEntry, renderSubUsage, renderUsage, type CommandUsage } from "./types.ts";

export { DAEMON_FLAGS_USAGE, renderSubUsage, renderUsage, type CommandUsage } from "./types.ts";
export { MASTER_KEY_USAGE } from "./security.ts";

export const USAGE = {
  up,
  init,
  daemon,
  status,
  plan,
  diff,
  release,
  rollback,
  versions,
  events,
  logs,
  edge,
  secrets,
  config,
  d1,
  keys,
  tokens,
  audit,
  vault,
  backup,
  restore,
  mcp,
  tunnel,
  kit,
} satisfies Record<string, CommandUsage>;

export type CommandName = keyof typeof USAGE;

export const COMMAND_NAMES = Object.keys(USAGE) as CommandName[];

export function isCommand(name: string): name is CommandName {
  return Object.hasOwn(USAGE, name);
}

/** A command's usage text, or one subcommand's when `sub` names one. */
export function usageOf(name: CommandName, sub?: string): string {
  const u: CommandUsage = USAGE[name];
  return sub !== undefined && u.subs && Object.hasOwn(u.subs, sub) ? renderSubUsage(name, sub, u) : renderUsage(name, u);
}

/**
 * Does `sub` name a subcommand `cbo help <name> <sub>` may ask about: one of its `subs`, or a verb
 * a synopsis line starts with (`cbo release pause|resume|promote|abort <id>`: these share the
 * command's usage)?
 */
export function namesSubcommand(name: CommandName, sub: string): boolean {
  const u: CommandUsage = USAGE[name];
  return isSubcommand(name, sub) || (u.synopsis ?? []).some((l) => (l.split(" ")[0] ?? "").split("|").includes(sub));
}

/** Does `sub` name a subcommand of `name`? */
export function isSubcommand(name: CommandName, sub: string | undefined): sub is string {
  const subs = (USAGE[name] as CommandUsage).subs;
  return sub !== undefined && subs !== undefined && Object.hasOwn(subs, sub);
}

/** `cbo help`: every command with its lines, the shared flags, tokens and exit codes. */
export function overview(version: string, cbo = "npx cbo"): string {
  const run =
    cbo === "cbo"
      ? "usage: cbo <command> [flags]"
      : `usage: ${cbo} <command> [flags]      (after \`npm install\`; or run \`npm link\` once, then \`cbo …\`)`;
  return `cbo ${version} — Clawdbot Orchestrator

${run}
       ${cbo} help <command> [<subcommand>]   ${cbo} <command> [<subcommand>] --help   ${cbo} --version
       (the lines below say \`cbo\` for short)

commands:
${COMMAND_NAMES.map((n) => renderOverviewEntry(n, USAGE[n])).join("\n")}

flags: --json (machine-readable output; errors too, as {"error":{"code","message","hint","details"}} on stdout),
       --debug (stack traces), -h/--help
daemon: --url URL (or CBO_URL; default from <data>/daemon.json), --data DIR (default .cbo)
token: the first of --token-file FILE, --token TOKEN (visible in \`ps\`: warned), CBO_TOKEN_FILE, CBO_TOKEN,
       <data>/admin-token (the daemon writes it on first start, 0600); a token file others can read is refused
master key (daemon, backup, restore): CBO_MASTER_KEY, --master-key-file FILE (or CBO_MASTER_KEY_FILE),
       or CBO_MASTER_PASSPHRASE; cbo up creates <data>/master.key (0600) for local use
${EXIT_CODES_HELP}
`;
}
