// The `cbo` command: a thin dispatcher. Each command returns its exit code (exit-codes.ts); errors
// print as `error ERR_X: message` with a hint (or as one JSON object with --json), stacks only with
// --debug. Help is answered here, from the usage table (usage/), before a command's code loads:
// `cbo help <command> [<sub>]` and `--help`/`-h` anywhere on a command line print the same text
// the command's usage errors give as their hint.
import { CboError } from "../kit/errors.ts";
import { cboCommand, packageVersion } from "./invocation.ts";
import { closest } from "../kit/did-you-mean.ts";
import { printError, printJsonLine } from "./output.ts";
import { COMMAND_NAMES, isCommand, isSubcommand, namesSubcommand, overview, usageOf, type CommandName } from "./usage/index.ts";

type Command = (args: string[]) => Promise<number>;

/** Each command's module loads on first use: `cbo status` must not pay for esbuild, Miniflare and the engine. */
const lazy =
  <M>(load: () => Promise<M>, pick: (m: M) => Command): Command =>
  async (args) =>
    pick(await load())(args);

/** The code of each command of the usage table (the compiler holds the two to the same names). */
const COMMANDS: Record<CommandName, Command> = {
  up: lazy(
    () => import("./launchers/up-command.ts"),
    (m) => m.upCommand,
  ),
  daemon: lazy(
    () => import("./launchers/daemon-command.ts"),
    (m) => m.daemonCommand,
  ),
  status: lazy(
    () => import("./commands/status-command.ts"),
    (m) => m.statusCommand,
  ),
  plan: lazy(
    () => import("./commands/plan-command.ts"),
    (m) => m.planCommand,
  ),
  diff: lazy(
    () => import("./commands/diff-command.ts"),
    (m) => m.diffCommand,
  ),
  release: lazy(
    () => import("./commands/release-command.ts"),
    (m) => m.releaseCommand,
  ),
  rollback: lazy(
    () => import("./commands/release-command.ts"),
    (m) => m.rollbackCommand,
  ),
  versions: lazy(
    () => import("./commands/versions-command.ts"),
    (m) => m.versionsCommand,
  ),
  events: lazy(
    () => import("./commands/events-command.ts"),
    (m) => m.eventsCommand,
  ),
  logs: lazy(
    () => import("./commands/logs-command.ts"),
    (m) => m.logsCommand,
  ),
  edge: lazy(
    () => import("./launchers/edge-command.ts"),
    (m) => m.edgeCommand,
  ),
  secrets: lazy(
    () => import("./commands/secrets-command.ts"),
    (m) => m.secretsCommand,
  ),
  // `cbo tokens create --offline` works on the data directory (the daemon stopped): the way back
  // in without an admin token at hand; everything else asks the daemon.
  tokens: async (args) =>
    args.includes("--offline")
      ? (await import("./offline/tokens-offline.ts")).tokensOffline(args)
      : (await import("./commands/tokens-command.ts")).tokensCommand(args),
  audit: lazy(
    () => import("./offline/audit-command.ts"),
    (m) => m.auditCommand,
  ),
  backup: lazy(
    () => import("./offline/backup-command.ts"),
    (m) => m.backupCommand,
  ),
  restore: lazy(
    () => import("./offline/restore-command.ts"),
    (m) => m.restoreCommand,
  ),
  keys: lazy(
    () => import("./commands/keys-command.ts"),
    (m) => m.keysCommand,
  ),
  config: lazy(
    () => import("./commands/config-command.ts"),
    (m) => m.configCommand,
  ),
  d1: lazy(
    () => import("./commands/d1-command.ts"),
    (m) => m.d1Command,
  ),
  vault: lazy(
    () => import("./offline/vault-command.ts"),
    (m) => m.vaultCommand,
  ),
  tunnel: lazy(
    () => import("./commands/tunnel-command.ts"),
    (m) => m.tunnelCommand,
  ),
  mcp: lazy(
    () => import("./launchers/mcp-command.ts"),
    (m) => m.mcpCommand,
  ),
  init: lazy(
    () => import("./launchers/init-command.ts"),
    (m) => m.initCommand,
  ),
  kit: lazy(
    () => import("./offline/kit-command.ts"),
    (m) => m.kitCommand,
  ),
};

/** The flags main.ts looks at, before the `--` that ends flags. */
function flagsOf(argv: string[]): Set<string> {
  const end = argv.indexOf("--");
  return new Set(end === -1 ? argv : argv.slice(0, end));
}

function printUsage(text: string): number {
  process.stdout.write(text + "\n");
  return 0;
}

/** `cbo help [<command> [<sub>]]`. */
function help(topic: string[]): number {
  const [command, sub] = topic;
  if (command === undefined) return printUsage(overview(packageVersion(), cboCommand()));
  if (!isCommand(command)) {
    const meant = closest(command, COMMAND_NAMES);
    throw new CboError("ERR_USAGE", `No command "${command}" to help with.${meant ? ` Did you mean "${meant}"?` : ""}`, {
      hint: `the commands are: ${COMMAND_NAMES.join(", ")}`,
    });
  }
  if (sub !== undefined && !namesSubcommand(command, sub)) {
    throw new CboError("ERR_USAGE", `cbo ${command} has no subcommand "${sub}".`, { hint: usageOf(command) });
  }
  return printUsage(usageOf(command, sub));
}

export async function main(argv: string[]): Promise<number> {
  const flags = flagsOf(argv);
  const debug = flags.has("--debug");
  const json = flags.has("--json");
  const [command, ...rest] = argv;
  try {
    if (command === undefined) {
      process.stdout.write(overview(packageVersion(), cboCommand()));
      return 1;
    }
    if (command === "--version" || command === "-V" || command === "version") {
      if (json) printJsonLine({ version: packageVersion(), node: process.versions.node });
      else process.stdout.write(`cbo ${packageVersion()}\n`);
      return 0;
    }
    if (command === "help" || command === "--help" || command === "-h") return help(rest.filter((a) => !a.startsWith("-")));
    // Own keys only: `cbo toString` is an unknown command, not Object.prototype's method.
    if (!isCommand(command)) {
      // `cbo --json status`, `cbo --data DIR plan w`: the flags belong after the command; say the
      // line that runs (the command first, everything else as typed, in order).
      const at = command.startsWith("-") ? argv.findIndex((a) => isCommand(a)) : -1;
      if (at > 0) {
        const line = ["cbo", argv[at]!, ...argv.filter((_, i) => i !== at)].join(" ");
        throw new CboError("ERR_USAGE", `${command} is a flag; flags go after the command.`, { hint: `run: ${line}` });
      }
      const meant = closest(command, COMMAND_NAMES);
      throw new CboError("ERR_USAGE", `Unknown command "${command}".${meant ? ` Did you mean "${meant}"?` : ""}`, {
        hint: "Run `cbo help` for the list of commands.",
      });
    }
    // `--help` on any command line: its usage (or its subcommand's), whatever else is on the line.
    if (flags.has("--help") || flags.has("-h")) return printUsage(usageOf(command, isSubcommand(command, rest[0]) ? rest[0] : undefined));
    return await COMMANDS[command](rest);
  } catch (e) {
    return printError(e, debug, json);
  }
}
