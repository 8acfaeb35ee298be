// Usage of the commands that start things (up, init, daemon, edge, mcp) and of the installation
// around them (tunnel, kit).
import { DAEMON_FLAGS_USAGE, type CommandUsage } from "./types.ts";

export const up: CommandUsage = {
  summary:
    "the local edge (three regions), the daemon, and the fleet of orchestrator.yaml (or the bundled\nexample) released through the daemon's API",
  synopsis: [
    "[--config FILE] [--data DIR] [--port N] [--edge-port N] [--regions eu,us,ap] [--traffic [--traffic-rate N]] [--json]",
    "    [--log-format text|json] [--log-level debug|info|warn|error]   (else CBO_LOG_FORMAT, CBO_LOG_LEVEL) [--verbose]",
  ],
  about: `the edge keeps its state in <data>/edge; the daemon listens on --port (default 8700), the edge on
--edge-port (default 8780) and the ports right after it, one per region. Every port is checked before
anything is written: a busy port changes nothing in --data. --traffic: once the fleet is up, a light
synthetic load (--traffic-rate requests/s, default 30) on every worker and region, so that the canary
analysis of the next cbo release has real traffic to compare. The daemon's log is kept in
<data>/daemon.log; the terminal shows it without the access lines (one per API request) unless
--verbose, --log-level debug or --log-format json. Ctrl-C stops everything`,
};

export const init: CommandUsage = {
  summary:
    "the setup wizard: data dir, master key, the local edge or a Cloudflare token and accounts,\ntargets, tunnel, orchestrator.yaml with an example worker, and a first release",
  synopsis: [
    "[--data DIR] [--config FILE] [--master-key-file FILE] [--yes] [--json]",
    "    [--local [--regions eu,us,ap] | --account-id [NAME=]ID ... --api-token-file FILE [--api-url URL]]",
    "    (CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID stand in for --api-token-file and --account-id)",
    "    [--no-release] [--serve] [--port N] [--edge-port N]",
  ],
  about:
    "on a terminal it asks what the flags do not say; --yes takes the defaults (the local edge).\nexit 0 set up, 1 a step needs a fix from you, 2 a step failed on the system (Cloudflare unreachable,\na busy port), 3 the first release rolled back",
};

export const daemon: CommandUsage = {
  summary: 'the daemon alone, on a running "cbo edge" or Cloudflare targets',
  synopsis: [
    "[--config FILE] [--data DIR] [--port N] [--host 127.0.0.1 [--allow-public]] [--edge EDGE_DIR] [--master-key-file FILE]",
    "    [--backup-every 6h] [--backup-keep 14] [--backup-dir DIR]   (over orchestrator.yaml's backup:, each flag winning)",
    "    [--log-format text|json] [--log-level debug|info|warn|error]   (else CBO_LOG_FORMAT, CBO_LOG_LEVEL)",
  ],
  about:
    "--edge: the directory of a running `cbo edge` (default <data>/edge when one runs there); the port is\nchecked before anything is written: a busy port changes nothing in --data",
};

export const edge: CommandUsage = {
  summary: "run the local edge: a Cloudflare-API-compatible server on real workerd",
  synopsis: ["[--port N] [--edge DIR] [--regions eu,us,ap] [--no-crons]"],
  about: `--edge DIR: the edge's own directory (default .cbo/edge, where \`cbo up\` keeps it); --data DIR is an old
name for it here (deprecated: elsewhere --data is the data directory)
--port 0 takes free ports for the API and every region; the JSON line printed on start names them.`,
  subs: {
    fault: {
      args: "<region> outage|latency <ms>|errors <rate>|ratelimit <n>/<seconds>|clear [--edge DIR | --data DIR] [--json]",
      about:
        "inject or clear a fault in a running edge; the edge is --edge DIR, else <data>/edge (the `cbo up --data DIR`\nlayout; default .cbo/edge)",
    },
    trigger: {
      args: '<region> <worker> [--cron "<expr>"] [--edge DIR | --data DIR] [--json]',
      about: "fire a Worker's cron trigger now, on its live version (the edge found as for fault)",
    },
  },
};

export const mcp: CommandUsage = {
  summary:
    "a stdio MCP server for AI agents, acting with the agent's own token (--token-file, CBO_TOKEN_FILE\nor CBO_TOKEN, never the admin token by default); mutating tools need confirm: true",
  synopsis: ["[--url URL] [--data DIR] [--token-file FILE] [--secret-files DIR]"],
  about: `tools: status, plan, diff, releases, release_show, versions, secrets, config_diff, audit_search (read only);
release, rollback, release_control, config_publish, secret_rotate, d1_restore (need confirm: true).
The token is the agent's own: --token-file FILE, else CBO_TOKEN_FILE, else CBO_TOKEN (a token file others
can read is refused). The daemon: --url, CBO_URL, or <data>/daemon.json. secret_rotate reads a value's file
only inside --secret-files DIR (else CBO_MCP_SECRET_FILES); without either, only generate_bytes.`,
};

export const tunnel: CommandUsage = {
  summary:
    "the daemon's Cloudflare Tunnel: ingress to the daemon (catch-all 404 last), cloudflared's config\nand token file (0600) in <data>/tunnel, cloudflared supervised when installed",
  flags: DAEMON_FLAGS_USAGE,
  subs: {
    create: {
      args: "[--hostname H] [--agent-hostname H] [--target T] [--name N]",
      about: `create the tunnel and its ingress (admin): H (default on the local edge <name>.tunnel.test)
-> the daemon; --agent-hostname: a hostname for Workers exposing only relay and heartbeats;
a catch-all 404 last. Writes cloudflared's config and token file (0600) in <data>/tunnel`,
    },
    config: {
      args: "[--apply] [--hostname H] [--agent-hostname H|--no-agent-hostname]",
      about: "show the ingress (applied and desired); --apply re-applies it (idempotent, admin)",
    },
    status: { args: "", about: "Cloudflare's view of the tunnel (connections) and the local cloudflared process" },
  },
};

export const kit: CommandUsage = {
  summary:
    "the deployment kit (.tar.gz): Dockerfile, compose.yaml with cloudflared, PM2 ecosystem, systemd\nunits, setup-vps.sh, .env.example, README and the product; no secret (through the daemon when one runs)",
  synopsis: [
    "[--out FILE] [--force] [--config FILE] [--port N] [--edge-port N] [--data-dir DIR]",
    "    [--install-dir DIR] [--etc-dir DIR] [--tunnel-hostname H] [--url URL] [--token-file FILE] [--data DIR] [--json]",
  ],
  about: `writes the deployment kit (.tar.gz): Dockerfile, compose.yaml (daemon + cloudflared), ecosystem.config.cjs
(PM2), systemd units, setup-vps.sh, .env.example and a README, with the product itself; no secret
--port, --data-dir, --install-dir, --etc-dir: the daemon's port and directories on the VPS
(defaults: the running daemon's port or 8700, /var/lib/cbo, /opt/cbo, /etc/cbo)
with a daemon running on --data (or at --url), the daemon builds it from its configuration (admin token);
with none, it is built from --config (default ./orchestrator.yaml, else the bundled example)`,
};
