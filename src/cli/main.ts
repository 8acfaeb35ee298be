// The `cbo` command: a thin dispatcher. Each command returns its exit code; errors print as
// `error ERR_X: message` with a hint (exit 1 user error, 2 system error), stacks only with --debug.
import { CboError } from "../kit/errors.ts";
import { printError } from "./output.ts";

const HELP = `cbo — Clawdbot Orchestrator

usage: cbo <command> [flags]

commands:
  up        the local edge (three regions), the daemon, and the fleet of orchestrator.yaml
            (or the bundled example) released through the engine
            cbo up [--config FILE] [--data DIR] [--port N] [--edge-port N] [--regions eu,us,ap]
  daemon    the daemon alone, on a running "cbo edge" or Cloudflare targets
            cbo daemon [--config FILE] [--data DIR] [--port N] [--edge EDGE_DATA_DIR]
  status    per worker and target: live versions with percentages, health, last release
  plan      what \`cbo release\` would do: targets, live versions, waves, steps, actions, API calls
            cbo plan <worker>
  release   release a worker (canary first, gated), following it live; exit 0 succeeded,
            1 rolled back (a gate failed) or aborted, 2 failed (system)
            cbo release <worker> [--no-wait]
  rollback  every target back to an earlier version at once, without gates
            cbo rollback <worker> [--to <release id|version id>] [--no-wait]
  versions  the newest versions per target, the live one marked
            cbo versions <worker> [--limit N]
  events    the event log; --follow streams it live until Ctrl-C (resume with --after N)
            cbo events [--follow] [--after N] [--release ID] [--limit N]
  edge      run the local edge: a Cloudflare-API-compatible server on real workerd
            cbo edge [--port N] [--data DIR] [--regions eu,us,ap]
            cbo edge fault <region> outage|latency <ms>|errors <rate>|ratelimit <n>/<seconds>|clear

flags: --json (machine-readable output), --debug (stack traces), -h/--help
daemon: --url URL (or CBO_URL), --token TOKEN (or CBO_TOKEN), --data DIR (default .cbo: the
        daemon writes daemon.json and admin-token there)
`;

type Command = (args: string[]) => Promise<number>;

/** Each command's module loads on first use: `cbo status` must not pay for esbuild, Miniflare and the engine. */
const lazy =
  <M>(load: () => Promise<M>, pick: (m: M) => Command): Command =>
  async (args) =>
    pick(await load())(args);

const COMMANDS: Record<string, Command> = {
  up: lazy(() => import("./up-command.ts"), (m) => m.upCommand),
  daemon: lazy(() => import("./daemon-command.ts"), (m) => m.daemonCommand),
  status: lazy(() => import("./status-command.ts"), (m) => m.statusCommand),
  plan: lazy(() => import("./plan-command.ts"), (m) => m.planCommand),
  release: lazy(() => import("./release-command.ts"), (m) => m.releaseCommand),
  rollback: lazy(() => import("./release-command.ts"), (m) => m.rollbackCommand),
  versions: lazy(() => import("./versions-command.ts"), (m) => m.versionsCommand),
  events: lazy(() => import("./events-command.ts"), (m) => m.eventsCommand),
  edge: lazy(() => import("./edge-command.ts"), (m) => m.edgeCommand),
};

export async function main(argv: string[]): Promise<number> {
  const debug = argv.includes("--debug");
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === "help" || command === "--help" || command === "-h") {
      process.stdout.write(HELP);
      return command === undefined ? 1 : 0;
    }
    // Own keys only: `cbo toString` is an unknown command, not Object.prototype's method.
    const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
    if (!run) throw new CboError("ERR_USAGE", `Unknown command "${command}".`, { hint: "Run `cbo help` for the list of commands." });
    return await run(rest);
  } catch (e) {
    return printError(e, debug);
  }
}
