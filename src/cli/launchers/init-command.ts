// `cbo init`: the setup wizard in the terminal. Decides (flags, or questions on a terminal), then
// runs the steps of src/setup in order, printing each one's state as it changes: master key →
// the local edge or the Cloudflare token and accounts → orchestrator.yaml and its targets →
// tunnel → first release (the daemon started here, the example worker released through the
// engine and probed). Then it stops everything, or with --serve keeps serving until Ctrl-C.
import { existsSync } from "node:fs";
import { dirname, join, resolve, sep } from "node:path";
import { CboError, isCboError } from "../../kit/errors.ts";
import { takeSecretEnv } from "../../config/child-env.ts";
import type { ResolvedSpec } from "../../config/load.ts";
import { createCloudflareClient } from "../../cloudflare/index.ts";
import type { LocalEdge } from "../../local-edge/types.ts";
import { startDaemon, type Daemon } from "../../daemon.ts";
import { checkCloudflareToken, checkTargets } from "../../setup/cloudflare-check.ts";
import { DEFAULT_REGIONS, decide, terminalAsk, type InitChoices } from "../../setup/choices.ts";
import { prepareMasterKey, readApiTokenFile, writeProject } from "../../setup/files.ts";
import { checkServing, firstRelease } from "../../setup/first-release.ts";
import type { SetupStep } from "../../setup/steps.ts";
import { tunnelStep, which } from "../../setup/tunnel-check.ts";
import { buildTargets } from "../../targets/index.ts";
import { tunnelFiles } from "../../tunnel/files.ts";
import { runWizard, type StepActions } from "../../setup/wizard.ts";
import { parse, portFlag, regionsFlag } from "../args.ts";
import { assertPortsFree } from "../../api/port-check.ts";
import { refuseDataDirInUse } from "../../store/in-use.ts";
import { realish } from "../../build/confine.ts";
import { DEFAULT_DAEMON_PORT, DEFAULT_DATA, DEFAULT_EDGE_PORT, edgePorts } from "../defaults.ts";
import { printJsonLine, untilSignal } from "../output.ts";
import { EXIT, exitForError, exitForOutcome } from "../exit-codes.ts";
import { usageOf } from "../usage/index.ts";
import { asInvoked } from "../invocation.ts";
import { adminTokenNote } from "../admin-token-note.ts";

const USAGE = usageOf("init");

const MARK: Record<SetupStep["status"], string> = { pending: " ", running: "…", done: "✓", skipped: "–", failed: "✗" };

export async function initCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      data: { type: "string" },
      config: { type: "string" },
      local: { type: "boolean" },
      "account-id": { type: "string", multiple: true },
      "api-token-file": { type: "string" },
      "api-url": { type: "string" },
      regions: { type: "string" },
      "master-key-file": { type: "string" },
      "no-release": { type: "boolean" },
      serve: { type: "boolean" },
      port: { type: "string" },
      "edge-port": { type: "string" },
      yes: { type: "boolean", short: "y" },
    },
    USAGE,
  );
  if (values.help) {
    process.stdout.write(USAGE + "\n");
    return 0;
  }
  if (positionals.length > 0) throw new CboError("ERR_USAGE", "cbo init takes no arguments.", { hint: USAGE });
  const json = values.json === true;
  const port = portFlag(values.port, "port") ?? DEFAULT_DAEMON_PORT;
  const edgePort = portFlag(values["edge-port"], "edge-port") ?? DEFAULT_EDGE_PORT;
  const flags = {
    data: values.data ?? DEFAULT_DATA,
    config: values.config ?? "orchestrator.yaml",
    local: values.local === true,
    accountIds: values["account-id"] ?? [],
    apiTokenFile: values["api-token-file"],
    apiUrl: values["api-url"],
    regions: regionsFlag(values.regions),
    masterKeyFile: values["master-key-file"],
    release: values["no-release"] !== true,
    serve: values.serve === true,
    yes: values.yes === true,
  };
  const interactive = !flags.yes && !json && process.stdin.isTTY === true && process.stderr.isTTY === true;
  const terminal = interactive ? terminalAsk() : undefined;
  // Out of process.env before anything starts a child (esbuild, workerd): passed on explicitly.
  const env = { ...process.env, ...takeSecretEnv() };
  let choices: InitChoices;
  try {
    choices = await decide(flags, env, terminal?.ask);
  } finally {
    terminal?.close();
  }

  // A daemon already serving this data directory (`npm start` running): set up already; named
  // before the first step writes anything, as the ports are.
  await refuseDataDirInUse(resolve(choices.dataDir));
  refuseProjectInDataDir(choices.configFile, choices.dataDir);
  // The ports this run will listen on, before the first step writes anything (the master key);
  // first, the workerd processes a killed run on this directory left on them (leftover-workerd.ts).
  if (choices.targets.kind === "local") {
    const { stopLeftoverWorkerd } = await import("../../local-edge/index.ts");
    await stopLeftoverWorkerd(join(choices.dataDir, "edge"), (line) => process.stderr.write(line + "\n"));
  }
  await assertPortsFree("127.0.0.1", [
    ...(choices.release ? [{ port, what: "the daemon's API", flag: "--port" }] : []),
    ...(choices.targets.kind === "local" ? edgePorts(edgePort, choices.targets.regions) : []),
  ]);
  const say = (line: string) => process.stderr.write(line + "\n");
  // The daemon's own log: kept, and shown only when a step fails (or with --debug).
  const daemonLog: string[] = [];
  const log = (line: string) => {
    if (values.debug) return say(`  daemon: ${line}`);
    daemonLog.push(line);
    if (daemonLog.length > 40) daemonLog.shift();
  };
  let edge: LocalEdge | undefined;
  let daemon: Daemon | undefined;
  let cfToken: string | undefined;
  let spec: ResolvedSpec | undefined;
  let served: Array<{ target: string; url: string }> = [];

  const actions: StepActions = {
    "master-key": async () => prepareMasterKey(choices.dataDir, choices.masterKey, env),
    async cloudflare() {
      if (choices.targets.kind === "local") {
        const { startLocalEdge } = await import("../../local-edge/index.ts");
        edge = await startLocalEdge({ port: edgePort, dataDir: join(choices.dataDir, "edge"), regions: choices.targets.regions }).catch(
          (e: unknown) => {
            // An edge already running in <data>/edge says so itself, with what to do.
            if (isCboError(e) && e.code === "ERR_CONFLICT") throw e;
            throw new CboError("ERR_IO", `The local edge could not start: ${e instanceof Error ? e.message : String(e)}`, {
              hint: "Is `cbo up` already running on these ports? Stop it, or pass --edge-port N.",
            });
          },
        );
        return {
          status: "done",
          detail: `local edge at ${edge.apiUrl}, regions ${edge.regions.map((r) => `${r.name}:${r.port}`).join(" ")} (no Cloudflare account needed)`,
        };
      }
      // --api-token-file, else wrangler's CLOUDFLARE_API_TOKEN (kept in memory only, never written).
      cfToken = choices.apiTokenFile ? readApiTokenFile(choices.apiTokenFile) : env.CLOUDFLARE_API_TOKEN!.trim();
      // Two retries: a check that cannot reach the API says so in seconds, not after a minute of backoff.
      const client = createCloudflareClient({ baseUrl: choices.targets.apiUrl, apiToken: cfToken, maxRetries: 2 });
      return checkCloudflareToken(
        client,
        choices.targets.accounts.map((a) => a.accountId),
        choices.targets.apiUrl,
      );
    },
    async targets() {
      const project = writeProject(choices.configFile, choices.targets);
      spec = project.spec;
      // The daemon's own builder; it only checks the accounts here (no workers.dev lookup).
      const built = buildTargets(spec.targets, {
        edge,
        cloudflareToken: cfToken,
        subdomains: false,
        hints: {
          noEdge: "Run cbo init --local, or change the target in orchestrator.yaml.",
          noRegion: "Pass --regions to match orchestrator.yaml.",
          noToken: "Run cbo init --account-id ID --api-token-file FILE, or change the target.",
        },
      });
      const checked = await checkTargets([...built.values()]);
      return {
        status: "done",
        detail: `${project.wrote.length ? `wrote ${project.wrote.join(", ")}` : `kept ${choices.configFile}`}; ${checked.detail}`,
      };
    },
    // `cbo tunnel create` leaves its record in the data directory; this step only looks for it.
    tunnel: async () => {
      const record = tunnelFiles(choices.dataDir).record;
      return tunnelStep({
        cloudflared: which("cloudflared"),
        ...(existsSync(record)
          ? { tunnel: { configured: true, detail: `a tunnel is configured (${record}); cbo tunnel status shows it` } }
          : {}),
      });
    },
    async "first-release"() {
      const worker = spec!.workers[0];
      if (!choices.release)
        return { status: "skipped", detail: "not run (--no-release); later: cbo up (or cbo daemon), then cbo release <worker>" };
      if (!worker) return { status: "skipped", detail: `${spec!.file} declares no workers yet` };
      daemon = await startDaemon({
        dataDir: choices.dataDir,
        configFile: choices.configFile,
        port,
        log,
        env,
        ...(edge ? { edge } : {}),
        ...(cfToken ? { cloudflareToken: cfToken } : {}),
        // The Cloudflare token's file may sit in the project: no Worker bundle may read it.
        ...(choices.apiTokenFile ? { protectedPaths: [choices.apiTokenFile] } : {}),
        ...(choices.masterKey.kind === "file"
          ? { masterKeyFile: choices.masterKey.file }
          : choices.masterKey.kind === "passphrase"
            ? { passphrase: choices.masterKey.passphrase }
            : {}),
      });
      const r = await firstRelease(daemon.engine, worker.name, "cbo init");
      // Reached from here only on the local edge; a Cloudflare release is judged by its gates.
      const local = worker.targets.flatMap((name) => {
        const t = spec!.targets.find((x) => x.name === name);
        const region = t?.api === "local" ? edge?.regions.find((x) => x.name === (t.region ?? t.name)) : undefined;
        return region
          ? [
              {
                target: name,
                endpoint: { url: `http://127.0.0.1:${region.port}/`, host: `${worker.name}.localhost` },
                publicUrl: `http://${worker.name}.localhost:${region.port}/`,
              },
            ]
          : [];
      });
      if (local.length === 0) return r;
      const where = await checkServing(worker.name, local);
      served = local.map((l) => ({ target: l.target, url: l.publicUrl }));
      return { status: "done", detail: `${r.detail}; serving at ${where}` };
    },
  };

  let code = 0;
  try {
    const result = await runWizard(actions, (_steps, s) => (json ? printJsonLine({ event: "step", step: s }) : say(stepLine(s))));
    if (!result.ok && daemonLog.length > 0 && !json) say(`daemon log (last lines):\n${daemonLog.map((l) => `  ${l}`).join("\n")}`);
    const summary = {
      event: "done",
      ok: result.ok,
      steps: result.steps,
      dataDir: choices.dataDir,
      configFile: choices.configFile,
      ...(daemon ? { apiUrl: daemon.url, adminTokenFile: daemon.adminTokenFile } : {}),
      workers: served,
    };
    if (json) printJsonLine(summary);
    else process.stdout.write(asInvoked(nextSteps(result.ok, choices, Boolean(daemon && choices.serve), { port, edgePort })) + "\n");
    if (!result.ok) code = result.error ? initExit(result.error) : EXIT.systemError;
    if (result.ok && daemon && choices.serve) {
      if (!json)
        say(`serving: API ${daemon.url} (admin token ${adminTokenNote(daemon.adminTokenFile, choices.dataDir).text}); Ctrl-C stops`);
      await untilSignal();
    }
  } finally {
    await daemon?.close().catch((e: unknown) => say(`cbo init: stopping the daemon: ${e instanceof Error ? e.message : String(e)}`));
    await edge?.close().catch(() => {});
  }
  return code;
}

/** A first release that rolled back or was aborted exits as `cbo release` would (3); other failures by their code. */
function initExit(err: CboError): number {
  const status = err.details?.status;
  return typeof status === "string" && err.details?.releaseId !== undefined ? exitForOutcome(status) : exitForError(err);
}

/** One step as it goes; the steps' texts say `cbo …`, printed as they run here (asInvoked). */
export function stepLine(s: SetupStep): string {
  const head = `  ${MARK[s.status]} ${s.title}${s.detail ? ` — ${s.detail}` : ""}`;
  return asInvoked(s.fix ? `${head}\n      fix: ${s.fix}` : head);
}

export function nextSteps(
  ok: boolean,
  c: InitChoices,
  serving: boolean,
  listen: { port: number; edgePort: number } = { port: DEFAULT_DAEMON_PORT, edgePort: DEFAULT_EDGE_PORT },
): string {
  if (!ok) return "Setup stopped at the failed step: apply its fix and run `cbo init` again (finished steps are kept).";
  const data = `--data ${c.dataDir}`;
  const config = `--config ${c.configFile}`;
  // The ports and regions this run was given: the defaults may be what made the user pick others
  // (taken by another program), so a start line without them could meet a busy port.
  const port = listen.port !== DEFAULT_DAEMON_PORT ? ` --port ${listen.port}` : "";
  const edge =
    c.targets.kind === "local"
      ? `${listen.edgePort !== DEFAULT_EDGE_PORT ? ` --edge-port ${listen.edgePort}` : ""}${
          c.targets.regions.join(",") !== DEFAULT_REGIONS.join(",") ? ` --regions ${c.targets.regions.join(",")}` : ""
        }`
      : "";
  const key =
    c.masterKey.kind === "file" && c.masterKey.file !== join(c.dataDir, "master.key")
      ? `CBO_MASTER_KEY_FILE=${c.masterKey.file} `
      : c.masterKey.kind === "passphrase"
        ? "CBO_MASTER_PASSPHRASE=… "
        : "";
  const start =
    c.targets.kind === "local"
      ? `${key}cbo up ${data} ${config}${port}${edge}`
      : c.apiTokenFile
        ? `${key}CLOUDFLARE_API_TOKEN="$(cat ${c.apiTokenFile})" cbo daemon ${data} ${config}${port}`
        : `${key}cbo daemon ${data} ${config}${port}   (with CLOUDFLARE_API_TOKEN set, as now)`;
  return [
    "Setup complete.",
    ...(serving ? [] : [`  start:       ${start}`]),
    `  status:      cbo status ${data}`,
    `  AI agent:    cbo tokens create --name clawdbot --role agent ${data}   (then CBO_TOKEN=… cbo mcp ${data}, or the skill in skills/cf-orchestrator)`,
    `  tunnel:      cbo tunnel create ${data}   (optional: reach the orchestrator from outside through Cloudflare Tunnel)`,
  ].join("\n");
}

/**
 * orchestrator.yaml and the Workers beside it may not live in the data directory: bundles never
 * read the orchestrator's own data (build/confine.ts), so the example Worker written there could
 * never be released. Refused before anything is written.
 */
function refuseProjectInDataDir(configFile: string, dataDir: string): void {
  const project = realish(dirname(resolve(configFile)));
  const data = realish(resolve(dataDir));
  if (project !== data && !project.startsWith(data + sep)) return;
  throw new CboError(
    "ERR_VALIDATION",
    `--config ${configFile} is inside the data directory ${dataDir}: the Workers beside it could never be released, since bundles never read the orchestrator's own data.`,
    { hint: `Put orchestrator.yaml outside the data directory, e.g. --config ${join(dirname(resolve(dataDir)), "orchestrator.yaml")}.` },
  );
}
