// release.daemon_idle_rss_*: the memory of the real `cbo daemon` process (bin/cbo.js, as systemd,
// PM2 and the Docker image run it) idling on the example fleet after it has been released, so that
// the monitor probes six live Workers and the drift checker reads their deployments and versions
// every second: the work an idle daemon really does. The local edge runs in the bench's process.
//
//   cold cache     first start with an empty compile cache (Node strips the TypeScript and
//                  compiles every module; bin/cbo.js keeps both in the cache for later starts)
//   default flags  a later start, no Node flags
//   flags          a later start with the flags of `npm start` and the kit's launchers
//   2 min          the default-flags start read again after two minutes idle (its steady state)
//
// Every daemon here gives its start-up memory back ~2 s after it is up (src/telemetry/memory-reducer.ts):
// the 5 s readings come after that one reduction, the 2 min reading shows what idle work grows back.
import { spawn } from "node:child_process";
import { cp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { startDaemon } from "../src/daemon.ts";
import { NODE_FLAGS } from "../src/packaging/facts.ts";
import { generateKeyFile } from "../src/vault/index.ts";
import { repoRoot, sharedReleaseEdge, tempDir } from "./release-support.ts";
import { atMost, info, round, type BenchContext, type BenchResult } from "./types.ts";

const IDLE_MS = 5_000;
const LATER_MS = 120_000;
/** The Node flags of the kit's launchers (and `npm start`): a small young generation. */
const DAEMON_NODE_FLAGS = NODE_FLAGS;
const SPEC = join(repoRoot, "examples", "orchestrator.yaml");
const CBO = join(repoRoot, "bin", "cbo.js");
const mib = (kb: number) => round(kb / 1024, 1);

/** VmRSS and its parts (kB) of a live process, from /proc. */
async function rssOf(pid: number): Promise<{ rss: number; anon: number; file: number }> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { rss: kb("VmRSS"), anon: kb("RssAnon"), file: kb("RssFile") };
}

/** Starts `cbo daemon`, waits for its start line, lets it idle, reads its memory, stops it. */
async function idleDaemon(o: {
  nodeFlags: string[];
  env: Record<string, string>;
  args: string[];
  /** When to read its memory, from its start line (ms); the first is the figure, later ones the steady state. */
  readAtMs?: number[];
}): Promise<Array<{ rss: number; anon: number; file: number }>> {
  const child = spawn(process.execPath, [...o.nodeFlags, CBO, "daemon", ...o.args], {
    cwd: repoRoot,
    env: o.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d));
  child.stderr.on("data", (d: Buffer) => (err += d));
  const exited = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
  try {
    const started = Date.now();
    while (!out.includes("\n")) {
      if (child.exitCode !== null || Date.now() - started > 60_000)
        throw new Error(`cbo daemon did not start: ${err.trim().split("\n").slice(-5).join(" | ")}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const readings = [];
    const upAt = Date.now();
    for (const at of o.readAtMs ?? [IDLE_MS]) {
      await new Promise((r) => setTimeout(r, Math.max(0, upAt + at - Date.now())));
      readings.push(await rssOf(child.pid!));
    }
    return readings;
  } finally {
    child.kill("SIGINT");
    await exited;
  }
}

export async function daemonIdleRss(ctx: BenchContext): Promise<BenchResult[]> {
  const edge = await sharedReleaseEdge(ctx);
  const dir = await tempDir("daemon-rss");
  try {
    // What `cbo daemon --edge DIR` reads of a running `cbo edge`.
    const edgeDir = join(dir, "edge");
    await mkdir(edgeDir);
    await writeFile(join(edgeDir, "edge.json"), JSON.stringify({ apiUrl: edge.apiUrl, regions: edge.regions }));
    await writeFile(join(edgeDir, "token"), edge.token, { mode: 0o600 });
    const keyFile = join(dir, "master.key");
    generateKeyFile(keyFile);
    // The fleet, released once as `cbo up` does (its relay secret set first).
    const seeded = join(dir, "seeded");
    const setup = await startDaemon({ dataDir: seeded, configFile: SPEC, edge, masterKeyFile: keyFile, env: {}, port: 0, log: () => {} });
    try {
      setup.security.vault.put("SHOPIFY_WEBHOOK_SECRET", `bench-${crypto.randomUUID()}`, { cas: 0, mode: "relay", by: "bench" });
      for (const w of setup.spec.workers) {
        const done = await setup.engine.wait((await setup.engine.release(w.name, { by: "bench" })).id);
        if (done.status !== "succeeded") throw new Error(`releasing ${w.name}: ${done.status} (${done.reason})`);
      }
    } finally {
      await setup.close();
    }
    const env = {
      PATH: process.env["PATH"] ?? "",
      HOME: process.env["HOME"] ?? "",
      CBO_MASTER_KEY_FILE: keyFile,
      CBO_CLOUDFLARED: "off",
      NODE_COMPILE_CACHE: join(dir, "compile-cache"),
    };
    const run = async (nodeFlags: string[], readAtMs?: number[]) => {
      const data = join(dir, `data-${crypto.randomUUID()}`);
      await cp(seeded, data, { recursive: true });
      return idleDaemon({
        nodeFlags,
        env,
        args: ["--config", SPEC, "--data", data, "--edge", edgeDir, "--port", "0"],
        ...(readAtMs ? { readAtMs } : {}),
      });
    };
    const [cold] = await run([]);
    const [flags] = await run(DAEMON_NODE_FLAGS);
    // The same start read again after LATER_MS: what an idle daemon settles at (caches filled, the
    // young generation grown back as far as idle work grows it).
    const [plain, later] = await run([], [IDLE_MS, LATER_MS]);
    const baseline = await idleChild(["-e", `process.stdout.write("up\\n"); setInterval(() => {}, 1000)`], env);
    const floorArgs = [join(repoRoot, "bench", "rss-floor-child.ts"), join(dir, "floor.sqlite")];
    await idleChild(floorArgs, env); // warms the compile cache for it, as for the daemon
    const floor = await idleChild(floorArgs, env);
    const runtimeArgs = [join(repoRoot, "bench", "rss-runtime-floor-child.ts"), join(dir, "runtime-floor.sqlite")];
    await idleChild(runtimeArgs, env);
    const runtimeFloor = await idleChild(runtimeArgs, env);
    const spec = "examples/orchestrator.yaml released (3 Workers x 3 local targets), monitor and drift every 1 s";
    const parts = (m: { anon: number; file: number }) => ({ anon_mib: mib(m.anon), file_mib: mib(m.file), idle_s: IDLE_MS / 1000 });
    return [
      atMost("release.daemon_idle_rss_mib", flags!.rss / 1024, "MiB", 120, {
        ...parts(flags!),
        node_flags: DAEMON_NODE_FLAGS.join(" "),
        compile_cache: "warm",
        spec,
      }),
      atMost("release.daemon_idle_rss_default_flags_mib", plain!.rss / 1024, "MiB", 80, {
        ...parts(plain!),
        node_flags: "(none)",
        compile_cache: "warm",
        spec,
      }),
      info("release.daemon_idle_rss_default_flags_2min_mib", later!.rss / 1024, "MiB", {
        ...parts(later!),
        idle_s: LATER_MS / 1000,
        node_flags: "(none)",
        compile_cache: "warm",
        measured: "the default-flags daemon above, read again after two minutes idle",
      }),
      info("release.daemon_idle_rss_cold_cache_mib", cold!.rss / 1024, "MiB", {
        ...parts(cold!),
        node_flags: "(none)",
        compile_cache: "empty (first start)",
      }),
      info("release.node_baseline_rss_mib", baseline.rss / 1024, "MiB", {
        ...parts(baseline),
        measured: "an empty Node process, same wait; file_mib is mostly the node binary's own pages",
      }),
      info("release.daemon_dependency_floor_rss_mib", floor.rss / 1024, "MiB", {
        ...parts(floor),
        node_flags: "(none)",
        measured:
          "bench/rss-floor-child.ts: the daemon's dependencies (sqlite, Hono server, ws, yaml, zod, node:http) polling, none of its code but the memory reducer",
      }),
      info("release.node_runtime_floor_rss_mib", runtimeFloor.rss / 1024, "MiB", {
        ...parts(runtimeFloor),
        node_flags: "(none)",
        measured:
          "bench/rss-runtime-floor-child.ts: Node, node:sqlite and a node:http server polling itself and a SQLite file, with the memory reducer; no dependency and none of the daemon's code",
      }),
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs `node args…` until it prints a line, lets it idle, reads its memory, stops it. */
async function idleChild(args: string[], env: Record<string, string>): Promise<{ rss: number; anon: number; file: number }> {
  const child = spawn(process.execPath, args, { cwd: repoRoot, env, stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise((r) => child.on("close", r));
  try {
    await new Promise((resolve, reject) => {
      child.stdout.once("data", resolve);
      child.once("close", (code) => reject(new Error(`node ${args[0]} exited ${code} before it was up`)));
    });
    await new Promise((r) => setTimeout(r, IDLE_MS));
    return await rssOf(child.pid!);
  } finally {
    child.kill("SIGINT");
    await exited;
  }
}
