// `cbo daemon`: the orchestrator daemon alone, driving Cloudflare targets, or the regions of a
// local edge started separately with `cbo edge` (found through its data directory). It never loads
// the local edge's code (Miniflare, workerd): a production install may leave those packages out.
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { CboError } from "../../kit/errors.ts";
import { takeSecretEnv } from "../../config/child-env.ts";
import type { RegionInfo } from "../../local-edge/types.ts";
import { startDaemon } from "../../daemon.ts";
import { parse, portFlag } from "../args.ts";
import { DEFAULT_DAEMON_PORT, DEFAULT_DATA, DEFAULT_EDGE_DATA, defaultConfig } from "../defaults.ts";
import { printJsonLine, untilSignal } from "../output.ts";

const USAGE =
  "usage: cbo daemon [--config orchestrator.yaml] [--data DIR] [--port N] [--host 127.0.0.1 [--allow-public]] [--edge EDGE_DATA_DIR] [--master-key-file FILE]\n" +
  "                  [--backup-every 6h] [--backup-keep 14] [--backup-dir DIR]   (over orchestrator.yaml's backup:, each flag winning)";

function readEdge(dir: string): { apiUrl: string; token: string; regions: RegionInfo[] } {
  try {
    const info = JSON.parse(readFileSync(join(dir, "edge.json"), "utf8")) as { apiUrl: string; regions: RegionInfo[] };
    return { apiUrl: info.apiUrl, regions: info.regions, token: readFileSync(join(dir, "token"), "utf8").trim() };
  } catch {
    throw new CboError("ERR_NOT_FOUND", `No local edge found in ${dir}.`, {
      hint: "Start one with `cbo edge --data DIR`, or use `cbo up`.",
    });
  }
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
      "backup-every": { type: "string" },
      "backup-keep": { type: "string" },
      "backup-dir": { type: "string" },
    },
    USAGE,
  );
  if (values.help) {
    process.stdout.write(USAGE + "\n");
    return 0;
  }
  if (positionals.length > 0) throw new CboError("ERR_USAGE", `Unknown argument "${positionals[0]}".`, { hint: USAGE });
  // Out of process.env before anything starts a child (esbuild, cloudflared): passed on explicitly.
  const secrets = takeSecretEnv();
  const edgeDir =
    values.edge !== undefined || existsSync(join(resolve(DEFAULT_EDGE_DATA), "edge.json"))
      ? resolve(values.edge ?? DEFAULT_EDGE_DATA)
      : undefined;
  const daemon = await startDaemon({
    dataDir: resolve(values.data ?? DEFAULT_DATA),
    configFile: resolve(values.config ?? defaultConfig()),
    port: portFlag(values.port, "port") ?? DEFAULT_DAEMON_PORT,
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
  printJsonLine({ url: daemon.url, adminTokenFile: daemon.adminTokenFile, ...(showToken ? { adminToken: daemon.initialAdminToken } : {}) });
  await untilSignal();
  await daemon.close();
  return 0;
}
