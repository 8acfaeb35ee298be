// `cbo up` (what `npm start` runs): the local edge with its regions, the orchestrator daemon on
// it, and every Worker of the spec released (gated, canary first). Prints the API URL and, on the
// first start, the admin token (kept in <data>/admin-token, mode 0600).
//
// It starts the edge and the daemon in-process, then acts like any client: the releases, the
// config publishes and the example's secret go through the daemon's API with the admin token (the
// one daemon client), so they are on the audit record as requested, like `cbo release`'s.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { randomBytes } from "node:crypto";
import type { DaemonClient } from "../../client/index.ts";
import type { AnyEvent } from "../../contract/index.ts";
import { CboError, isCboError } from "../../kit/errors.ts";
import { takeSecretEnv } from "../../config/child-env.ts";
import { startDaemon } from "../../daemon.ts";
import { loadSpec } from "../../config/load.ts";
import { refuseDataDirInUse } from "../../store/in-use.ts";
import { markStarting, refuseWhileStarting } from "../starting.ts";
import { createLogger, logSettings, stderrSink } from "../../telemetry/index.ts";
import { parse, portFlag, regionsFlag, WHOLE_NUMBER } from "../args.ts";
import { DEFAULT_DAEMON_PORT, DEFAULT_DATA, DEFAULT_EDGE_PORT, defaultConfig, EXAMPLE_SPEC } from "../defaults.ts";
import { assertPortsFree } from "../../api/port-check.ts";
import { cliClient } from "../connect.ts";
import { edgePorts } from "../defaults.ts";
import { followRelease } from "../follow-release.ts";
import { printJsonLine, untilSignal } from "../output.ts";
import { adminTokenNote } from "../admin-token-note.ts";
import { asInvoked } from "../invocation.ts";
import { usageOf } from "../usage/index.ts";
import { startSyntheticTraffic } from "./synthetic-traffic.ts";
import { upDaemonLog } from "./up-log.ts";

const USAGE = usageOf("up");

export async function upCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      config: { type: "string" },
      data: { type: "string" },
      port: { type: "string" },
      "edge-port": { type: "string" },
      regions: { type: "string" },
      traffic: { type: "boolean" },
      "traffic-rate": { type: "string" },
      "log-format": { type: "string" },
      "log-level": { type: "string" },
      verbose: { type: "boolean" },
    },
    USAGE,
  );
  if (values.help) {
    process.stdout.write(USAGE + "\n");
    return 0;
  }
  if (positionals.length > 0) throw new CboError("ERR_USAGE", `Unknown argument "${positionals[0]}".`, { hint: USAGE });
  const port = portFlag(values.port, "port") ?? DEFAULT_DAEMON_PORT;
  const edgePort = portFlag(values["edge-port"], "edge-port") ?? DEFAULT_EDGE_PORT;
  const dataDir = resolve(values.data ?? DEFAULT_DATA);
  const configFile = resolve(values.config ?? defaultConfig());
  const regions = regionsFlag(values.regions);
  const trafficRate = trafficRateFlag(values.traffic, values["traffic-rate"]);
  // --log-format / --log-level, else CBO_LOG_FORMAT / CBO_LOG_LEVEL. In JSON, every stderr line is
  // one JSON object: this command's progress and the local edge's lines go through a logger too.
  const logging = logSettings({ format: values["log-format"], level: values["log-level"], env: process.env });
  const upLog = createLogger({ sink: stderrSink, ...logging });
  const say = (line: string) => upLog.info(line);
  // The daemon's lines: all in <data>/daemon.log; on the terminal without the access log in text
  // mode unless --verbose or --log-level debug (JSON lines are for machines: all of them).
  const daemonLog = upDaemonLog({
    dataDir,
    verbose: values.verbose === true || logging.level === "debug" || logging.format === "json",
    terminal: (line) => process.stderr.write(`${line}\n`),
  });
  // Out of process.env before anything starts a child (esbuild, workerd): passed on explicitly.
  const secrets = takeSecretEnv();

  // Before the edge starts (it writes into <data>/edge): a daemon already serving this data
  // directory (a second `npm start`), or an orchestrator.yaml that does not validate, stops
  // `cbo up` with the directory as it was. The daemon reads the file again when it starts.
  await refuseDataDirInUse(dataDir);
  refuseWhileStarting(dataDir);
  loadSpec(configFile);
  // Loaded here, not at the top: only the commands that run the edge load Miniflare and workerd.
  const { startLocalEdge, stopLeftoverWorkerd, DEFAULT_REGIONS, refuseEdgeDirInUse } = await import("../../local-edge/index.ts");
  // An edge already running in <data>/edge (`cbo edge`): named before its ports are found busy.
  await refuseEdgeDirInUse(join(dataDir, "edge"));
  // A `cbo up` killed before (SIGKILL, OOM) left its workerd processes on the region ports: they
  // are stopped first (only once the edge that started them is gone), or the port check below
  // would refuse this start for ports held by nobody.
  await stopLeftoverWorkerd(join(dataDir, "edge"), say);
  // Every port first: a busy one stops `cbo up` before it writes anything into --data.
  await assertPortsFree("127.0.0.1", [
    { port, what: "the daemon's API", flag: "--port" },
    ...edgePorts(edgePort, regions ?? DEFAULT_REGIONS),
  ]);
  // From here until the daemon answers, a command run on this data directory says it is starting.
  const started = markStarting(dataDir);
  // The embedded edge fires due cron triggers, as Cloudflare would for the released Workers.
  const edge = await startLocalEdge({
    port: edgePort,
    dataDir: join(dataDir, "edge"),
    ...(regions ? { regions } : {}),
    crons: true,
    log: (line) => upLog.info(line.trimEnd()),
  }).catch((e: unknown) => {
    started();
    throw e;
  });
  let daemon: Awaited<ReturnType<typeof startDaemon>> | undefined;
  try {
    // Local use: without CBO_MASTER_KEY / CBO_MASTER_KEY_FILE the vault's master key is
    // <data>/master.key (0600, created on first start). Production keeps it outside the data dir.
    daemon = await startDaemon({
      dataDir,
      reduceMemory: true,
      configFile,
      port,
      edge,
      log: daemonLog.sink,
      logFormat: logging.format,
      logLevel: logging.level,
      fallbackMasterKeyFile: join(dataDir, "master.key"),
      env: { ...process.env, ...secrets },
      ...(secrets.CBO_MASTER_PASSPHRASE ? { passphrase: secrets.CBO_MASTER_PASSPHRASE } : {}),
      ...(secrets.CLOUDFLARE_API_TOKEN ? { cloudflareToken: secrets.CLOUDFLARE_API_TOKEN } : {}),
    });
    started(); // it answers now (daemon.json names it)
    // From here on, the daemon is used as any client uses it: through its API, with the admin token.
    const token = daemon.initialAdminToken ?? adminToken(daemon.adminTokenFile);
    const client = cliClient({ url: daemon.url, token });
    if (token && configFile === EXAMPLE_SPEC) {
      // A failure here shows again, with its reason, as the release that needs the secret.
      await seedExampleSecrets(client, say, dataFlagOf(dataDir, values.data)).catch((e: unknown) =>
        say(`cbo: could not set SHOPIFY_WEBHOOK_SECRET: ${e instanceof Error ? e.message : String(e)}`),
      );
    }
    // A data directory without its admin-token file (restored from a backup) has no token here to
    // release with: said once, and the banner says how to make one.
    say(
      token
        ? `cbo: releasing ${daemon.spec.workers.length} worker(s) from ${configFile}`
        : asInvoked(
            `cbo: releasing nothing: ${dataDir} holds no admin token; make one (below), then cbo release <worker>${dataFlagOf(dataDir, values.data)}`,
          ),
    );
    const progress = (e: AnyEvent) => {
      if (
        e.type === "release.step.passed" ||
        e.type === "release.step.failed" ||
        (e.type.startsWith("release.") && !e.type.includes("step") && e.type !== "release.target.uploaded")
      ) {
        const pct = e.data.percent === undefined ? "" : ` ${String(e.data.percent)}%`;
        const why = e.data.reason ?? e.data.summary;
        say(`  ${e.type.padEnd(20)} ${e.worker ?? ""}${e.target ? " @ " + e.target : ""}${pct}${why ? " — " + String(why) : ""}`);
      }
    };
    const results: Array<{ worker: string; release: string; status: string; reason: string | null }> = [];
    for (const w of daemon.spec.workers) {
      if (!token) {
        results.push({ worker: w.name, release: "-", status: "not started", reason: "no admin token to release with" });
        continue;
      }
      try {
        // POST /v1/releases, then its events until it ends (as `cbo release` follows one).
        const started = await client.release(w.name);
        const { release: done } = await followRelease(client, started, { onEvent: progress });
        results.push({ worker: w.name, release: done.id, status: done.status, reason: done.reason });
      } catch (e) {
        // A worker that cannot be planned (e.g. a secret not set yet) does not stop the others.
        // Its summary line says why on one line, with what to do (the error's hint).
        const why = (e instanceof Error ? e.message : String(e)).replace(/\s*\n\s*/g, " ").replace(/\.$/, "");
        const hint = isCboError(e) && e.hint ? `; ${asInvoked(e.hint)}` : "";
        results.push({ worker: w.name, release: "-", status: "not started", reason: `${why}${hint}` });
      }
    }
    // The whole loop: signed config to every agent, which reports applying it in its heartbeats.
    const configs: Array<{ worker: string; version: number | null; written?: string[]; error?: string }> = [];
    for (const w of daemon.spec.workers.filter((x) => x.config && results.find((r) => r.worker === x.name)?.status === "succeeded")) {
      try {
        const p = await client.configPublish(w.name);
        configs.push({ worker: w.name, version: p.version, written: p.targets.filter((t) => t.written).map((t) => t.target) });
      } catch (e) {
        if (isCboError(e) && e.code === "ERR_CONFLICT") continue; // unchanged since the last start
        configs.push({ worker: w.name, version: null, error: e instanceof Error ? e.message : String(e) });
      }
    }
    const workerUrls = daemon.spec.workers.flatMap((w) =>
      w.targets.map((t) => {
        const region = edge.regions.find((r) => r.name === (daemon!.spec.targets.find((x) => x.name === t)?.region ?? t));
        return { worker: w.name, target: t, url: region ? `http://${w.name}.localhost:${region.port}/` : null };
      }),
    );
    const dataFlag = dataFlagOf(dataDir, values.data);
    const tokenNote = adminTokenNote(daemon.adminTokenFile, dataDir);
    if (values.json) {
      printJsonLine({
        apiUrl: daemon.url,
        dashboardUrl: new URL("/ui/", daemon.url).href,
        ...(tokenNote.exists ? { adminTokenFile: daemon.adminTokenFile } : { adminTokenMissing: tokenNote.text }),
        ...(daemon.initialAdminToken ? { adminToken: daemon.initialAdminToken } : {}),
        edgeApiUrl: edge.apiUrl,
        daemonLogFile: daemonLog.file,
        releases: results,
        configs,
        workers: workerUrls,
      });
    } else {
      process.stdout.write(
        [
          "Clawdbot Orchestrator is up",
          `  API          ${new URL("/v1/", daemon.url).href}   (OpenAPI: ${new URL("/v1/openapi.json", daemon.url).href})`,
          `  dashboard    ${new URL("/ui/", daemon.url).href}   (log in with the admin token)`,
          daemon.initialAdminToken
            ? `  admin token  ${daemon.initialAdminToken}   (shown once; also in ${daemon.adminTokenFile}, mode 0600)`
            : `  admin token  ${tokenNote.text}`,
          `  local edge   ${edge.apiUrl}   regions ${edge.regions.map((r) => `${r.name}:${r.port}`).join(" ")}`,
          `  daemon log   ${daemonLog.file}   (with the API's access lines; --verbose prints them here too)`,
          "Releases:",
          ...results.map((r) => `  ${r.worker.padEnd(16)} ${r.status}${r.reason ? ` (${r.reason})` : ""}   ${r.release}`),
          ...(configs.length > 0
            ? [
                "Config:",
                ...configs.map(
                  (c) =>
                    `  ${c.worker.padEnd(16)} ${c.version ? `v${c.version} published to ${(c.written ?? []).join(", ")}` : `not published (${c.error})`}`,
                ),
              ]
            : []),
          "Workers:",
          ...workerUrls.map((w) => `  ${w.worker.padEnd(16)} ${w.target.padEnd(4)} ${w.url}`),
          // Commands that run as printed: `npx cbo` unless cbo is on PATH, with the data directory
          // when it is not the default one (the CLI finds this daemon through <data>/daemon.json).
          asInvoked(`Try: cbo status${dataFlag}   cbo events --follow${dataFlag}   (Ctrl-C stops)`),
        ].join("\n") + "\n",
      );
    }
  } catch (e) {
    started();
    await daemon?.close().catch(() => {});
    await edge.close();
    daemonLog.close();
    throw e;
  }
  // A light synthetic load on every released Worker in every region, so that a release's canary
  // analysis has real traffic to compare (issue 15): `cbo release <worker>` then shows it.
  const traffic =
    trafficRate === undefined
      ? undefined
      : startSyntheticTraffic({
          targets: daemon.spec.workers.flatMap((w) =>
            w.targets.flatMap((t) => {
              const region = edge.regions.find((r) => r.name === (daemon!.spec.targets.find((x) => x.name === t)?.region ?? t));
              const probe = w.gate.probe_path;
              return region ? [{ port: region.port, host: `${w.name}.localhost`, paths: probe === "/" ? ["/"] : ["/", probe] }] : [];
            }),
          ),
          ratePerSec: trafficRate,
        });
  if (traffic) say(`cbo: synthetic traffic: ${trafficRate} requests/s over every worker and region (--traffic)`);
  await untilSignal(say);
  if (traffic) {
    const t = await traffic.stop();
    say(`cbo: synthetic traffic sent ${t.sent} requests (${t.failed} failed)`);
  }
  await daemon.close();
  await edge.close();
  daemonLog.close();
  return 0;
}

/** --traffic [--traffic-rate N]: requests per second of synthetic load, or undefined without --traffic. */
function trafficRateFlag(on: boolean | undefined, rate: string | undefined): number | undefined {
  if (rate !== undefined && !on) throw new CboError("ERR_USAGE", "--traffic-rate goes with --traffic.", { hint: USAGE });
  if (!on) return undefined;
  if (rate === undefined) return 30;
  const n = WHOLE_NUMBER.test(rate) ? Number(rate) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > 1000)
    throw new CboError("ERR_USAGE", `--traffic-rate takes requests per second, 1 to 1000 (got "${rate}").`, { hint: USAGE });
  return n;
}

/** The admin token the daemon keeps in its data directory (undefined when it is gone: the API then says so). */
function adminToken(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * The bundled example's webhook secret, made on first start so that the fleet releases at once
 * (a random value: nothing to leak). Replace it with your shop's through `cbo secrets set`.
 */
async function seedExampleSecrets(client: DaemonClient, say: (line: string) => void, dataFlag: string): Promise<void> {
  const have = new Set((await client.listSecrets()).map((s) => s.name));
  if (have.has("SHOPIFY_WEBHOOK_SECRET")) return;
  const value = randomBytes(32).toString("base64url");
  await client.putSecret("SHOPIFY_WEBHOOK_SECRET", { value, cas: 0, mode: "relay" });
  // A next step that runs as printed: `npx cbo` unless on PATH, with --data when not the default.
  say(
    asInvoked(
      `cbo: set SHOPIFY_WEBHOOK_SECRET (relay) to a random value; replace it with: cbo secrets set SHOPIFY_WEBHOOK_SECRET --from-file <file>${dataFlag}`,
    ),
  );
}

/** ` --data DIR` for the commands this prints, when the data directory is not the default one. */
function dataFlagOf(dataDir: string, given: string | undefined): string {
  return dataDir === resolve(DEFAULT_DATA) ? "" : ` --data ${shellWord(given ?? dataDir)}`;
}

/** A path as one shell word: quoted only when it needs to be. */
function shellWord(path: string): string {
  return /^[\w@%+=:,./-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`;
}
