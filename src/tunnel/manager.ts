// The tunnel manager: the daemon's Cloudflare Tunnel. It creates the tunnel and its ingress
// (provision.ts), keeps the files in <data>/tunnel, supervises cloudflared when one is installed,
// and tells the engine the URL Workers reach the orchestrator at.
//
// Nothing runs until start(daemonUrl): the ingress points at the daemon's own loopback URL, which
// is known only once the API listens.
import { CboError, isCboError } from "../kit/errors.ts";
import { cloudflaredArgs } from "./cloudflared-config.ts";
import { childEnv, findCloudflared, installHint, type Env } from "./find-binary.ts";
import { readRecord, readToken, removeLeftovers, tunnelFiles } from "./files.ts";
import { buildIngress, ingressService, publicUrlOf, sameIngress } from "./ingress.ts";
import { applyTunnel, DEFAULT_TUNNEL_NAME, defaultHostname, ensureTunnel, hostnameOf, pickAccount, type CreateInput } from "./provision.ts";
import { DEFAULT_RESTART_POLICY, type RestartPolicy } from "./restart-policy.ts";
import { createSupervisor, type Supervisor } from "./supervisor.ts";
import type { IngressRule, ProcessStatus, TunnelAccount, TunnelHealth, TunnelRecord, TunnelStatus } from "./types.ts";
import type { Logger } from "../telemetry/index.ts";

export type TunnelManagerOptions = {
  dataDir: string;
  /** The targets' accounts, the first being the default for a new tunnel. */
  accounts: () => TunnelAccount[];
  log: Logger;
  /** Where PATH and CBO_CLOUDFLARED are read (and what cloudflared's environment is cut from). */
  env: Env;
  /** The binary (a path), false to never run one; default CBO_CLOUDFLARED, else `cloudflared` on PATH. */
  cloudflared?: string | false;
  restartPolicy?: Partial<RestartPolicy>;
};

export type TunnelConfigView = {
  configured: true;
  hostname: string;
  agentHostname: string | null;
  /** As last applied through the API. */
  applied: IngressRule[];
  /** What applying now would send (the daemon's current URL). */
  desired: IngressRule[];
  inSync: boolean;
  configVersion: number | null;
  appliedAt: string;
};

export type TunnelManager = ReturnType<typeof createTunnelManager>;

export function createTunnelManager(o: TunnelManagerOptions) {
  const files = tunnelFiles(o.dataDir);
  removeLeftovers(files);
  const policy = { ...DEFAULT_RESTART_POLICY, ...o.restartPolicy };
  let record: TunnelRecord | null = readRecord(files);
  let daemonUrl: string | undefined;
  let binary: string | null | "off" = null;
  let supervisor: Supervisor | undefined;
  let stopped = false;
  // hostnames(), worked out again only when the record changes.
  let hostnamesOf: TunnelRecord | null | undefined;
  let hostnames: readonly string[] = [];
  // One create or apply at a time: both rewrite the same files and record.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn, fn);
    queue = run.catch(() => {});
    return run;
  };

  /** Supervises cloudflared when there is a binary and a tunnel; (re)starts it after a change. */
  async function supervise(changed: boolean): Promise<void> {
    if (stopped || daemonUrl === undefined) return;
    binary = findCloudflared(o.env, o.cloudflared);
    if (binary === null || binary === "off" || record === null) return;
    if (!supervisor) {
      supervisor = createSupervisor({
        name: "cloudflared",
        command: binary,
        args: () => cloudflaredArgs({ configFile: files.config, tokenFile: files.token }),
        env: childEnv(o.env),
        policy,
        log: o.log,
        secrets: () => [readToken(files) ?? ""],
      });
      supervisor.start();
    } else if (changed) await supervisor.restart();
  }

  function accountOf(r: TunnelRecord): TunnelAccount {
    const a = o.accounts().find((x) => x.target === r.target);
    if (!a)
      throw new CboError("ERR_NOT_FOUND", `The tunnel's target "${r.target}" is no longer in the spec.`, {
        hint: "Add the target back, or remove <data>/tunnel and create a new tunnel.",
      });
    return a;
  }

  function requireRecord(): TunnelRecord {
    if (!record)
      throw new CboError("ERR_NOT_FOUND", "No tunnel is configured.", { hint: "Create one with `cbo tunnel create [--hostname H]`." });
    return record;
  }

  function requireUrl(): string {
    if (daemonUrl === undefined)
      throw new CboError("ERR_CONFLICT", "The daemon is not listening yet, so the tunnel has nothing to point at.");
    return daemonUrl;
  }

  function processStatus(): ProcessStatus {
    const base = {
      binary: typeof binary === "string" && binary !== "off" ? binary : null,
      pid: null,
      startedAt: null,
      restarts: 0,
      attempt: 0,
      nextRestartMs: null,
      exits: [],
      install: null,
    };
    if (binary === "off") return { ...base, state: "disabled" };
    if (binary === null) return { ...base, state: "not-installed", install: installHint() };
    if (!supervisor) return { ...base, state: record ? "stopped" : "no-tunnel" };
    const s = supervisor.status();
    return { ...base, ...s, state: s.state === "idle" ? "starting" : s.state };
  }

  function configView(): TunnelConfigView {
    const r = requireRecord();
    const desired = daemonUrl === undefined ? r.ingress : buildIngress({ ...r, service: ingressService(daemonUrl) });
    return {
      configured: true,
      hostname: r.hostname,
      agentHostname: r.agentHostname,
      applied: r.ingress,
      desired,
      inSync: sameIngress(r.ingress, desired),
      configVersion: r.configVersion,
      appliedAt: r.appliedAt,
    };
  }

  const view = (r: TunnelRecord) => ({
    id: r.id,
    name: r.name,
    target: r.target,
    accountId: r.accountId,
    hostname: r.hostname,
    agentHostname: r.agentHostname,
    publicUrl: publicUrlOf(r.hostname),
    agentUrl: publicUrlOf(r.agentHostname ?? r.hostname),
    local: r.local,
    configVersion: r.configVersion,
    appliedAt: r.appliedAt,
  });

  return {
    files,
    start(url: string): Promise<void> {
      daemonUrl = url;
      binary = findCloudflared(o.env, o.cloudflared);
      if (binary === null && record && !record.local) o.log.warn(`tunnel ${record.name}: ${installHint().split("\n")[0]}`);
      return supervise(false);
    },
    async stop(): Promise<void> {
      stopped = true;
      await queue.catch(() => {});
      await supervisor?.stop();
    },

    create(input: CreateInput, commit: (r: TunnelRecord) => void) {
      return serial(async () => {
        if (record) {
          throw new CboError("ERR_CONFLICT", `A tunnel is already configured: ${record.name} (${record.id}) for ${record.hostname}.`, {
            hint: "`cbo tunnel config --apply` re-applies its ingress; to start over, delete it at Cloudflare and remove <data>/tunnel.",
          });
        }
        const service = ingressService(requireUrl());
        const account = pickAccount(o.accounts(), input.target);
        const name = input.name ?? DEFAULT_TUNNEL_NAME;
        const hostname = defaultHostname(account, name, input.hostname);
        const agentHostname = input.agentHostname === undefined ? null : hostnameOf(input.agentHostname, "agentHostname");
        const { id, adopted } = await ensureTunnel(account, name);
        const now = new Date().toISOString();
        const next = {
          version: 1 as const,
          id,
          name,
          target: account.target,
          accountId: account.accountId,
          local: account.local,
          hostname,
          agentHostname,
          service,
          createdAt: now,
        };
        const { record: written } = await applyTunnel(account, files, next, commit);
        record = written;
        await supervise(true);
        return { adopted, record: written };
      });
    },

    /** Re-applies the ingress (idempotent), optionally with new hostnames; rewrites the files. */
    apply(input: { hostname?: string; agentHostname?: string | null }, commit: (r: TunnelRecord) => void) {
      return serial(async () => {
        const r = requireRecord();
        const hostname = input.hostname === undefined ? r.hostname : hostnameOf(input.hostname, "hostname");
        const agentHostname =
          input.agentHostname === undefined
            ? r.agentHostname
            : input.agentHostname === null
              ? null
              : hostnameOf(input.agentHostname, "agentHostname");
        const { ingress: _i, configVersion: _v, appliedAt: _a, ...rest } = r;
        const { record: written, tokenChanged } = await applyTunnel(
          accountOf(r),
          files,
          { ...rest, hostname, agentHostname, service: ingressService(requireUrl()) },
          commit,
        );
        record = written;
        await supervise(tokenChanged);
        return configView();
      });
    },

    config: configView,

    async status(): Promise<TunnelStatus> {
      const proc = processStatus();
      if (!record) {
        // The local edge routes tunnel hostnames itself: with no Cloudflare target the install
        // steps would send the operator after a binary nothing here uses.
        const accounts = o.accounts();
        const localOnly = accounts.length > 0 && accounts.every((a) => a.local);
        return {
          configured: false,
          tunnel: null,
          remote: null,
          process: localOnly ? { ...proc, install: null } : proc,
          files: null,
          note: localOnly
            ? "No tunnel yet: `cbo tunnel create` makes one. Every target is on the local edge, which routes tunnel hostnames itself: cloudflared is not needed."
            : "No tunnel yet: `cbo tunnel create` makes one.",
        };
      }
      const r = record;
      let remote: TunnelStatus["remote"];
      try {
        const t = (await accountOf(r).client.listTunnels({ name: r.name })).find((x) => x.id === r.id);
        const conns = t?.connections;
        const connections = Array.isArray(conns) ? conns.length : 0;
        remote = t
          ? { status: t.status ?? null, connections, error: null }
          : { status: null, connections: 0, error: `Cloudflare has no tunnel ${r.id} (deleted?)` };
      } catch (e) {
        remote = {
          status: null,
          connections: 0,
          error: isCboError(e) ? `${e.code}: ${e.message}` : "the Cloudflare API could not be reached",
        };
      }
      const note = r.local
        ? "On the local edge the edge itself routes the tunnel's hostnames to the ingress service, so Workers reach the daemon without a connector."
        : proc.state === "not-installed"
          ? "Cloudflare has no connector for this tunnel until cloudflared runs."
          : null;
      return {
        configured: true,
        tunnel: view(r),
        remote,
        process: proc,
        files: { config: files.config, token: files.token, record: files.record },
        note,
      };
    },

    health(): TunnelHealth {
      const p = processStatus();
      return { configured: record !== null, process: p.state, restarts: p.restarts };
    },

    /**
     * The tunnel's public hostnames (the API's, and the Workers' when separate); empty without a
     * tunnel. Asked on every request (the API's Host allowlist and client address), so cheap.
     */
    hostnames(): readonly string[] {
      if (hostnamesOf !== record) {
        hostnamesOf = record;
        hostnames = record
          ? [...new Set([record.hostname, ...(record.agentHostname ? [record.agentHostname] : [])].map((h) => h.toLowerCase()))]
          : [];
      }
      return hostnames;
    },

    /** CBO_ORCHESTRATOR_URL for Workers when a tunnel is configured. */
    workersUrl(): string | undefined {
      return record ? publicUrlOf(record.agentHostname ?? record.hostname) : undefined;
    },
  };
}
