// `cbo tunnel create|config|status`: the daemon's Cloudflare Tunnel, through the daemon's API (the
// daemon holds the Cloudflare credentials, writes the files and runs cloudflared). The connector
// token stays in its 0600 file on the daemon's host: no answer carries it and nothing here prints it.
import type { TunnelConfig, TunnelStatus } from "../../contract/index.ts";
import { parse } from "../args.ts";
import { processIo, type CliIo } from "../cli-io.ts";
import { connect, DAEMON_FLAGS } from "../daemon-flags.ts";
import { dispatch, hinted, positionals, writeJson, type Subcommand } from "../subcommand.ts";
import { asInvoked } from "../invocation.ts";
import { table } from "../table.ts";
import { usageOf } from "../usage/index.ts";

export const TUNNEL_USAGE = usageOf("tunnel");

type StatusT = TunnelStatus;
type ConfigT = TunnelConfig;
type Rule = TunnelConfig["applied"][number];

const ADMIN = { ERR_FORBIDDEN: "creating or re-applying the tunnel needs an admin token" } as const;

/** `brief`: the install hint as a pointer only (create prints it; status prints it whole). */
export function formatProcess(p: StatusT["process"], brief = false): string {
  switch (p.state) {
    case "running":
      return `running (pid ${p.pid}, ${p.binary})${p.restarts ? `, ${p.restarts} restart${p.restarts === 1 ? "" : "s"}` : ""}`;
    case "backoff":
      return `exited; restarting in ${((p.nextRestartMs ?? 0) / 1000).toFixed(1)} s (failure ${p.attempt} in a row, ${p.restarts} restarts so far)`;
    case "not-installed":
      // No install hint: the daemon has no use for cloudflared (every target on the local edge).
      if (p.install === null) return "not installed";
      return brief ? "not installed (`cbo tunnel status` says how to install it)" : `not installed\n${p.install}`;
    case "disabled":
      return "not supervised here (CBO_CLOUDFLARED=off): run it where it is managed";
    case "no-tunnel":
      return `installed (${p.binary}); starts once a tunnel exists`;
    default:
      return p.state;
  }
}

export function formatRules(rules: Rule[]): string {
  return table(
    rules.map((r, i) => [String(i + 1), r.hostname ?? "*", r.path ?? "*", r.service]),
    ["#", "HOSTNAME", "PATH", "SERVICE"],
  );
}

export function formatStatus(s: StatusT, brief = false): string {
  if (!s.configured || !s.tunnel) {
    const needless = s.process.state === "not-installed" && s.process.install === null;
    return `no tunnel configured (\`cbo tunnel create\`)\ncloudflared  ${needless ? "not needed on the local edge (not installed)" : formatProcess(s.process, brief)}\n`;
  }
  const t = s.tunnel;
  const lines = [
    `tunnel       ${t.name} (${t.id}) in target ${t.target}${t.local ? " (local edge)" : ""}`,
    `public URL   ${t.publicUrl}`,
    ...(t.agentHostname ? [`agent URL    ${t.agentUrl}   (Workers: relay and heartbeats only)`] : []),
    `cloudflare   ${s.remote?.error ? `unknown: ${s.remote.error}` : `${s.remote?.status ?? "?"}, ${s.remote?.connections ?? 0} connection${s.remote?.connections === 1 ? "" : "s"}`}`,
    `cloudflared  ${t.local && s.process.state === "not-installed" ? "not needed on the local edge (not installed)" : formatProcess(s.process, brief)}`,
    ...(s.files ? [`files        ${s.files.config}, ${s.files.token} (0600)`] : []),
    ...(s.note ? [`note         ${s.note}`] : []),
  ];
  return lines.join("\n") + "\n";
}

export function formatConfig(c: ConfigT): string {
  return (
    [
      `ingress as applied${c.configVersion === null ? "" : ` (version ${c.configVersion})`} at ${c.appliedAt}:`,
      formatRules(c.applied),
      c.inSync
        ? "in sync with the daemon's address"
        : `out of sync: the daemon now listens elsewhere; \`cbo tunnel config --apply\` sends:\n${formatRules(c.desired)}`,
    ].join("\n") + "\n"
  );
}

const create: Subcommand = async (args, io) => {
  const { values, positionals: given } = parse(
    args,
    {
      ...DAEMON_FLAGS,
      hostname: { type: "string" },
      "agent-hostname": { type: "string" },
      target: { type: "string" },
      name: { type: "string" },
    },
    TUNNEL_USAGE,
  );
  positionals(given, [], TUNNEL_USAGE);
  const body = {
    ...(values.hostname ? { hostname: values.hostname } : {}),
    ...(values["agent-hostname"] ? { agentHostname: values["agent-hostname"] } : {}),
    ...(values.target ? { target: values.target } : {}),
    ...(values.name ? { name: values.name } : {}),
  };
  const r = await hinted(connect(values).createTunnel(body), {
    ...ADMIN,
    ERR_CONFLICT: "`cbo tunnel status` shows the tunnel there is; `cbo tunnel config --apply` re-applies it",
  });
  if (values.json) return (writeJson(io, r), 0);
  const t = r.tunnel!;
  io.stdout.write(`${r.adopted ? "took over the existing" : "created"} tunnel ${t.name} (${t.id}) in target ${t.target}\n`);
  io.stdout.write(formatStatus(r, true).split("\n").slice(1).join("\n"));
  // The daemon writes its next steps as `cbo …`; said here as they run (`npx cbo …` unless on PATH).
  io.stdout.write(asInvoked(`next steps:\n${r.nextSteps.map((s) => `  - ${s}`).join("\n")}\n`));
  return 0;
};

const config: Subcommand = async (args, io) => {
  const { values, positionals: given } = parse(
    args,
    {
      ...DAEMON_FLAGS,
      apply: { type: "boolean" },
      hostname: { type: "string" },
      "agent-hostname": { type: "string" },
      "no-agent-hostname": { type: "boolean" },
    },
    TUNNEL_USAGE,
  );
  positionals(given, [], TUNNEL_USAGE);
  const changes = values.hostname !== undefined || values["agent-hostname"] !== undefined || values["no-agent-hostname"];
  const client = connect(values);
  const hints = { ...ADMIN, ERR_NOT_FOUND: "create the tunnel first: cbo tunnel create" };
  const c =
    values.apply || changes
      ? await hinted(
          client.applyTunnelConfig({
            ...(values.hostname ? { hostname: values.hostname } : {}),
            ...(values["agent-hostname"]
              ? { agentHostname: values["agent-hostname"] }
              : values["no-agent-hostname"]
                ? { agentHostname: null }
                : {}),
          }),
          hints,
        )
      : await hinted(client.tunnelConfig(), hints);
  if (values.json) return (writeJson(io, c), 0);
  if (values.apply || changes) io.stdout.write("applied the ingress through the Cloudflare API and rewrote cloudflared's config\n");
  io.stdout.write(formatConfig(c));
  return 0;
};

const status: Subcommand = async (args, io) => {
  const { values, positionals: given } = parse(args, { ...DAEMON_FLAGS }, TUNNEL_USAGE);
  positionals(given, [], TUNNEL_USAGE);
  const s = await connect(values).tunnelStatus();
  io.stdout.write(values.json ? JSON.stringify(s) + "\n" : formatStatus(s));
  return 0;
};

export async function tunnelCommand(args: string[], io: CliIo = processIo()): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) return (io.stdout.write(TUNNEL_USAGE + "\n"), 0);
  return dispatch("tunnel", args, io, { create, config, status }, TUNNEL_USAGE);
}
