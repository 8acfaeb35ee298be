// `cbo daemon`: the orchestrator daemon alone, driving Cloudflare targets, or the regions of a
// local edge started separately with `cbo edge` (found through its data directory). It never loads
// the local edge's code (Miniflare, workerd): a production install may leave those packages out.
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { CboError } from "../../kit/errors.ts";
import { takeSecretEnv } from "../../config/child-env.ts";
import { readEdgeDir } from "../../config/edge-files.ts";
import type { RegionInfo } from "../../local-edge/types.ts";
import { startDaemon } from "../../daemon.ts";
import { logSettings } from "../../telemetry/index.ts";
import { parse, portFlag } from "../args.ts";
import { DEFAULT_DAEMON_PORT, DEFAULT_DATA, defaultConfig } from "../defaults.ts";
import { printJsonLine, untilSignal } from "../output.ts";
import { adminTokenNote } from "../admin-token-note.ts";
import { usageOf } from "../usage/index.ts";

const USAGE = usageOf("daemon");

function readEdge(dir: string): { apiUrl: string; token: string; regions: RegionInfo[] } {
  const edge = readEdgeDir(dir, "Start one with `cbo edge --edge DIR`, or use `cbo up`.");
  return { apiUrl: edge.apiUrl, regions: edge.regions as RegionInfo[], token: edge.token };
}

export async function daemonCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      config: { type: "string" },
      data: { type: "string" },
      port: { type: "string" },
      host: { type: "string" },
      "allow-public": { type: "boolean" },
      edge: { type: "string" },
      "master-key-file": { type: "string" },
      "log-format": { type: "string" },
      "log-level": { type: "string" },
      "backup-every": { type: "string" },
      "backup-keep": { type: "string" },
      "backup-dir": { type: "string" },
    },
    USAGE,
  );
  if (positionals.length > 0) throw new CboError("ERR_USAGE", `Unknown argument "${positionals[0]}".`, { hint: USAGE });
  // --log-format / --log-level, else CBO_LOG_FORMAT / CBO_LOG_LEVEL: refused here when misspelt.
  const logging = logSettings({ format: values["log-format"], level: values["log-level"], env: process.env });
  // Out of process.env before anything starts a child (esbuild, cloudflared): passed on explicitly.
  const secrets = takeSecretEnv();
  const dataDir = resolve(values.data ?? DEFAULT_DATA);
  // The edge of `cbo edge --edge DIR`, else the one running in <data>/edge (`cbo edge`'s default
  // for the default data directory, and where `cbo up --data DIR` keeps it).
  const edgeDir =
    values.edge !== undefined ? resolve(values.edge) : existsSync(join(dataDir, "edge", "edge.json")) ? join(dataDir, "edge") : undefined;
  const daemon = await startDaemon({
    dataDir,
    reduceMemory: true,
    configFile: resolve(values.config ?? defaultConfig()),
    port: portFlag(values.port, "port") ?? DEFAULT_DAEMON_PORT,
    logFormat: logging.format,
    logLevel: logging.level,
    ...(values.host ? { host: values.host } : {}),
    ...(values["allow-public"] ? { allowPublic: true } : {}),
    // A spec with Cloudflare targets only needs no local edge: read it when named or running.
    // Its state holds per-Worker keys and binding secrets: no Worker bundle may read it.
    ...(edgeDir ? { edge: readEdge(edgeDir), protectedPaths: [edgeDir] } : {}),
    env: { ...process.env, ...secrets },
    ...(secrets.CBO_MASTER_PASSPHRASE ? { passphrase: secrets.CBO_MASTER_PASSPHRASE } : {}),
    ...(secrets.CLOUDFLARE_API_TOKEN ? { cloudflareToken: secrets.CLOUDFLARE_API_TOKEN } : {}),
    // Scheduled backups: these flags over orchestrator.yaml's `backup:` (src/config/backup.ts).
    backupFlags: {
      every: values["backup-every"],
      keep: values["backup-keep"],
      dir: values["backup-dir"] === undefined ? undefined : resolve(values["backup-dir"]),
    },
    // The master key: --master-key-file, else CBO_MASTER_KEY / CBO_MASTER_KEY_FILE (startDaemon reads them).
    ...(values["master-key-file"] ? { masterKeyFile: resolve(values["master-key-file"]) } : {}),
  });
  // The first admin token is shown only to a person at a terminal: under PM2, systemd or Compose
  // stdout ends up in log files, and the token is in <data>/admin-token (0600) anyway.
  const showToken = daemon.initialAdminToken !== undefined && process.stdout.isTTY === true;
  // The admin-token file is named only when it is there (a restored data directory has none).
  const note = adminTokenNote(daemon.adminTokenFile, dataDir);
  if (!note.exists) daemon.telemetry.log.warn(`cbo: admin token: ${note.text}`);
  printJsonLine({
    url: daemon.url,
    ...(note.exists ? { adminTokenFile: daemon.adminTokenFile } : { adminTokenMissing: note.text }),
    ...(showToken ? { adminToken: daemon.initialAdminToken } : {}),
  });
  // In JSON, the shutdown line is one JSON object like the daemon's.
  await untilSignal((line) => daemon.telemetry.log.info(line));
  await daemon.close();
  return 0;
}
