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
  init      the setup wizard: data dir, master key, the local edge or a Cloudflare token and accounts,
            targets, tunnel, orchestrator.yaml with an example worker, and a first release
            cbo init [--data DIR] [--local | --account-id ID --api-token-file FILE] [--no-release] [--serve] [--yes] [--json]
  daemon    the daemon alone, on a running "cbo edge" or Cloudflare targets
            cbo daemon [--config FILE] [--data DIR] [--port N] [--edge EDGE_DATA_DIR]
  status    per worker and target: live versions with percentages, health, last release
  plan      what \`cbo release\` would do: targets, live versions, waves, steps, actions, API calls,
            and the secret versions each target ships (or why one is withheld)
            cbo plan <worker>
  release   release a worker (canary first, gated), following it live; exit 0 succeeded,
            1 rolled back or aborted, 2 failed or outcome unknown (whoever finished it)
            cbo release <worker> [--no-wait]
  rollback  every target back to an earlier version at once, without gates
            cbo rollback <worker> [--to <release id|version id>] [--no-wait]
  versions  the newest versions per target, the live one marked
            cbo versions <worker> [--limit N]
  events    the event log; --follow streams it live until Ctrl-C (resume with --after N)
            cbo events [--follow] [--after N] [--release ID] [--limit N]
  logs      the Workers' logs from every target, merged and labelled (target, version, outcome, console
            lines); the kept ones, or --follow live until Ctrl-C (through the daemon, as wrangler tail does for one)
            cbo logs <worker> [--target T] [--follow] [--status ok|error] [--search TEXT] [--limit N]
  edge      run the local edge: a Cloudflare-API-compatible server on real workerd
            cbo edge [--port N] [--data DIR] [--regions eu,us,ap]
            cbo edge fault <region> outage|latency <ms>|errors <rate>|ratelimit <n>/<seconds>|clear
  secrets   secrets in the vault; the value comes from stdin or --from-file, never the command line
            (stdin loses one trailing newline, a file is taken byte for byte); get prints only the value
            cbo secrets set <name> [--from-file F] [--cas N] [--mode binding|relay] [--jurisdiction eu ...]
            cbo secrets get <name> [--version N]     (admin; audited)
            cbo secrets list | versions <name> | undelete <name>
            cbo secrets rollback <name> --to N [--cas N] | delete <name> [--cas N]
            cbo secrets destroy <name> [--version N ...] --yes
            cbo secrets deliver <name> [--wait]      release every worker that lists it (canary, gated)
  config    the signed config each edge agent serves (the config: section of orchestrator.yaml)
            cbo config diff <worker> | publish <worker> [--force] | history <worker> | rollback <worker> --to N
  keys      per-Worker keys (versions only, never a key)
            cbo keys list
            cbo keys rotate <worker> [--target T] [--no-release] [--wait]   (admin) both keys verify until
            a release ships the new one; --wait follows it (exit 0 shipped, 1 rolled back, 2 failed)
  tokens    API tokens: create prints the new token once (stdout), list never shows one
            cbo tokens create --name N --role admin|deployer|viewer|agent [--tenant T] [--expires 30d|ISO]
            cbo tokens list | revoke <id>
  audit     the hash-chained audit log
            cbo audit tail [-n N] | search [--actor A] [--action A|secret.*] [--target T] [--since 1h|ISO]
                           [--until ISO] [--text S] [--limit N]
            cbo audit verify [--data DIR] [--db FILE] [--checkpoint FILE] [--public-key B64URL ...|--key-url URL]
            verify works offline (the SQLite file, read-only, never the daemon); exit 1 names the first bad entry
  vault     the vault's master key, rotated by re-wrapping every data key
            cbo vault rotate-master-key               (admin) online: the daemon rotates its key file,
                                                      keeping the old key as <file>.retired-<id>
            cbo vault rotate-master-key --data DIR --new-key-file F | --offline    with the daemon stopped
  backup    one encrypted, integrity-checked archive of the store, vault and audit log; with a daemon
            running, the daemon writes it and records it in the audit log (admin token); without one,
            from the files (SQLite online backup); --keep N prunes --dir to the N newest
            cbo backup [--out FILE | --dir DIR [--keep N]] [--data DIR] [--master-key-file FILE]
  restore   an archive onto an empty or new data directory: decrypts, checks integrity and the
            audit chain against the last signed checkpoint, leaves nothing if any check fails
            cbo restore <archive> --data DIR [--master-key-file FILE] [--checkpoint FILE] [--public-key B64URL]

  mcp       a stdio MCP server for AI agents, acting with the agent's own token (CBO_TOKEN or
            --token-file, never the admin token by default); mutating tools need confirm: true
            cbo mcp [--url URL] [--data DIR] [--token-file FILE]

  tunnel    the daemon's Cloudflare Tunnel: ingress to the daemon (catch-all 404 last), cloudflared's config
            and token file (0600) in <data>/tunnel, cloudflared supervised when installed
            cbo tunnel create [--hostname H] [--agent-hostname H] [--target T] | config [--apply] | status

  kit       the deployment kit (.tar.gz): Dockerfile, compose.yaml with cloudflared, PM2 ecosystem, systemd
            units, setup-vps.sh, .env.example, README and the product; no secret (through the daemon when one runs)
            cbo kit [--out FILE] [--force] [--config FILE] [--port N] [--data-dir DIR] [--install-dir DIR] [--tunnel-hostname H]

flags: --json (machine-readable output), --debug (stack traces), -h/--help
daemon: --url URL (or CBO_URL), --token TOKEN (or CBO_TOKEN), --data DIR (default .cbo: the
        daemon writes daemon.json and admin-token there)
master key (daemon, backup, restore): CBO_MASTER_KEY, --master-key-file FILE (or CBO_MASTER_KEY_FILE),
        or CBO_MASTER_PASSPHRASE; cbo up creates <data>/master.key (0600) for local use
`;

type Command = (args: string[]) => Promise<number>;

/** Each command's module loads on first use: `cbo status` must not pay for esbuild, Miniflare and the engine. */
const lazy =
  <M>(load: () => Promise<M>, pick: (m: M) => Command): Command =>
  async (args) =>
    pick(await load())(args);

const COMMANDS: Record<string, Command> = {
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
  tokens: lazy(
    () => import("./commands/tokens-command.ts"),
    (m) => m.tokensCommand,
  ),
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
