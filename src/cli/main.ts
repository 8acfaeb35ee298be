// The `cbo` command: a thin dispatcher. Each command returns its exit code; errors print as
// `error ERR_X: message` with a hint (exit 1 user error, 2 system error), stacks only with --debug.
import { CboError } from "../kit/errors.ts";
import { edgeCommand } from "./edge-command.ts";
import { printError } from "./output.ts";
import { upCommand } from "./up-command.ts";

const HELP = `cbo — Clawdbot Orchestrator

usage: cbo <command> [flags]

commands:
  up      start the local edge (three regions) with the example Worker deployed to each
  edge    run the local edge: a Cloudflare-API-compatible server on real workerd
          cbo edge [--port N] [--data DIR] [--regions eu,us,ap]
          cbo edge fault <region> outage|latency <ms>|errors <rate>|ratelimit <n>/<seconds>|clear

flags: --json (machine-readable output), --debug (stack traces), -h/--help
`;

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = { up: upCommand, edge: edgeCommand };

export async function main(argv: string[]): Promise<number> {
  const debug = argv.includes("--debug");
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === "help" || command === "--help" || command === "-h") {
      process.stdout.write(HELP);
      return command === undefined ? 1 : 0;
    }
    const run = COMMANDS[command];
    if (!run) throw new CboError("ERR_USAGE", `Unknown command "${command}".`, { hint: "Run `cbo help` for the list of commands." });
    return await run(rest);
  } catch (e) {
    return printError(e, debug);
  }
}
