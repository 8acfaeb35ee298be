// What a deployment kit is tailored from: the spec's targets and workers, where the product is
// installed on the VPS, its data directory and port, and whether a tunnel is configured. Every
// value that ends up in a shell script, a unit file or a YAML file passes a strict pattern here, so
// that a kit can never carry a command someone slipped into a path or a name. Secrets are never an
// input: the kit is built from names, paths and numbers only.
import { dirname, isAbsolute, relative, sep } from "node:path";
import * as z from "zod";
import { HostnameSchema, KitOverridesSchema, SafePathSchema } from "../contract/index.ts";
import type { ResolvedSpec } from "../config/load.ts";
import { CboError } from "../kit/errors.ts";

// The path and hostname rules and the overrides a request may give are the API's (src/contract/deployment-kit.ts).
export { HostnameSchema, KitOverridesSchema, SafePathSchema };

/** What the operator chooses about the VPS (CLI flags, query parameters); everything else comes from the spec. */
export const KitOptionsSchema = z
  .object({
    /** The daemon's loopback port on the VPS. */
    port: z.coerce.number().int().min(1).max(65_535).default(8700),
    /** The local edge's API port (only used when a target has `api: local`). */
    edgePort: z.coerce.number().int().min(1).max(65_535).default(8780),
    /** The daemon's data directory (store, vault, audit log). */
    dataDir: SafePathSchema.default("/var/lib/cbo"),
    /** Where the product and its config are installed. */
    installDir: SafePathSchema.default("/opt/cbo"),
    /** Master key, environment file and tunnel token: outside the data directory, so never in a backup. */
    etcDir: SafePathSchema.default("/etc/cbo"),
    /** The public hostname of a configured Cloudflare Tunnel, if any. */
    tunnelHostname: HostnameSchema.optional(),
  })
  .strict();
export type KitOptions = z.input<typeof KitOptionsSchema>;

export type KitTarget = {
  name: string;
  local: boolean;
  api: string;
  accountId: string | null;
  region: string | null;
  jurisdiction: string | null;
};
export type KitWorker = {
  name: string;
  /** Its entry module, or its wrangler file, relative to the spec's directory. */
  source: string;
  /** Its project root (what the kit carries), relative to the spec's directory: `.` for the spec's own. */
  root: string;
  /** The project root lies inside the spec's directory (the kit carries only such roots). */
  insideConfig: boolean;
  targets: string[];
  /** Vault secrets it uses (names). */
  secrets: string[];
  agent: boolean;
  /** It has signed config to publish (`cbo config publish`). */
  config: boolean;
};

export type KitFacts = {
  product: { name: string; version: string };
  tenant: string;
  port: number;
  edgePort: number;
  dataDir: string;
  installDir: string;
  etcDir: string;
  /** orchestrator.yaml on the VPS. */
  configFile: string;
  /** The system user the daemon runs as. */
  user: string;
  targets: KitTarget[];
  /** Regions the local edge must serve (empty: every target is on Cloudflare). */
  localRegions: string[];
  workers: KitWorker[];
  tunnel: { hostname: string } | null;
};

export const KIT_USER = "cbo";

/**
 * Node flags of every launcher the kit writes (systemd, PM2, Docker), as `npm start` uses them: a
 * young generation of 1 MiB suits a mostly idle control plane and keeps ~14 MiB of RSS that V8
 * would otherwise grow it to (bench/daemon-rss.ts measures both).
 */
export const NODE_FLAGS = ["--max-semi-space-size=1"];

/** The facts of a kit, from the resolved spec and the operator's options (pure). */
export function kitFacts(spec: ResolvedSpec, product: { name: string; version: string }, options: KitOptions = {}): KitFacts {
  const o = KitOptionsSchema.parse(options);
  const specDir = dirname(spec.file);
  const targets: KitTarget[] = spec.targets.map((t) => ({
    name: t.name,
    local: t.api === "local",
    api: t.api,
    accountId: t.account_id ?? null,
    region: t.api === "local" ? (t.region ?? t.name) : null,
    jurisdiction: t.jurisdiction ?? null,
  }));
  const rel = (p: string) => relative(specDir, p).split(sep).join("/") || ".";
  const workers: KitWorker[] = spec.workers.map((w) => {
    const origin = w.source?.origin;
    const root = rel(w.root);
    return {
      name: w.name,
      source: rel(origin?.kind === "wrangler" ? origin.file : w.entry),
      root,
      insideConfig: !root.startsWith("../") && root !== ".." && !isAbsolute(root),
      targets: w.targets,
      secrets: w.secrets,
      agent: w.agent,
      config: w.config !== undefined,
    };
  });
  const localRegions = [...new Set(targets.filter((t) => t.local).map((t) => t.region!))];
  // The edge's regions listen on the ports right after its API port (cbo edge --port).
  if (localRegions.length > 0 && o.edgePort + localRegions.length > 65_535) {
    throw new CboError(
      "ERR_VALIDATION",
      `edgePort ${o.edgePort} leaves no room for the ${localRegions.length} region port(s) after it (ports end at 65535).`,
      {
        hint: `Use an edge port up to ${65_535 - localRegions.length}.`,
      },
    );
  }
  return {
    product,
    tenant: spec.tenant,
    port: o.port,
    edgePort: o.edgePort,
    dataDir: o.dataDir,
    installDir: o.installDir,
    etcDir: o.etcDir,
    configFile: `${o.installDir}/config/orchestrator.yaml`,
    user: KIT_USER,
    targets,
    localRegions,
    workers,
    tunnel: o.tunnelHostname ? { hostname: o.tunnelHostname } : null,
  };
}

export const usesLocalEdge = (f: KitFacts) => f.localRegions.length > 0;
export const cloudflareTargets = (f: KitFacts) => f.targets.filter((t) => !t.local);
export const keyFile = (f: KitFacts) => `${f.etcDir}/master.key`;
export const envFile = (f: KitFacts) => `${f.etcDir}/cbo.env`;
export const tunnelTokenFile = (f: KitFacts) => `${f.etcDir}/tunnel-token`;
export const edgeDataDir = (f: KitFacts) => `${f.dataDir}/edge`;
