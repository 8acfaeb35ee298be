// Runs the project's pinned real wrangler against the local edge, in a throwaway project
// directory, with a sealed environment: no metrics, no update check, no user config, no prompts.
import { execFile, spawn } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { LocalEdge } from "../../src/local-edge/types.ts";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
/** The wranglers the suite runs: the pinned latest, and 4.86 (the devDependency alias `wrangler-4.86`). */
export const WRANGLER_VERSIONS = { latest: "wrangler", "4.86": "wrangler-4.86" } as const;
export type WranglerVersion = keyof typeof WRANGLER_VERSIONS;

export type WranglerRun = { args: string[]; code: number; stdout: string; stderr: string; timedOut: boolean };

/** A wrangler command that keeps running (`wrangler tail`): its output so far, and its exit. */
export type WranglerProcess = {
  args: string[];
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or -1 when killed by a signal). */
  exited: Promise<number>;
  /** Sends a signal (Ctrl-C is SIGINT). */
  signal(sig: NodeJS.Signals): void;
};

export type WranglerProject = {
  dir: string;
  /** Rewrites wrangler.jsonc. */
  writeConfig(config: Record<string, unknown>): Promise<void>;
  /** Rewrites src/index.js. */
  writeSource(source: string): Promise<void>;
  writeFile(rel: string, content: string): Promise<void>;
  run(args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<WranglerRun>;
  /** Starts a long-running command; the caller ends it (a signal) and awaits `exited`. */
  start(args: string[]): WranglerProcess;
  /** Runs and throws (with both streams) unless wrangler exits 0. */
  ok(args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<WranglerRun>;
};

export function describeRun(r: WranglerRun): string {
  return `wrangler ${r.args.join(" ")} -> exit ${r.code}${r.timedOut ? " (timed out)" : ""}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
}

/**
 * `dir` gets wrangler.jsonc, src/index.js and a private HOME/TMPDIR. The npm update check is kept
 * off the network twice over: WRANGLER_HIDE_BANNER skips the banner that runs it, and a fresh
 * cache entry in TMPDIR (`update-check/wrangler-latest.json`) answers it where it still runs.
 */
export async function createWranglerProject(
  dir: string,
  edge: LocalEdge,
  accountId: string,
  opts: { wrangler?: WranglerVersion } = {},
): Promise<WranglerProject> {
  const pkgDir = path.join(repoRoot, "node_modules", WRANGLER_VERSIONS[opts.wrangler ?? "latest"]);
  const wranglerBin = path.join(pkgDir, "bin", "wrangler.js");
  const home = path.join(dir, ".home");
  const tmp = path.join(dir, ".tmp");
  await fs.mkdir(path.join(dir, "src"), { recursive: true });
  await fs.mkdir(path.join(home, ".config"), { recursive: true });
  await fs.mkdir(path.join(tmp, "update-check"), { recursive: true });
  const { version } = JSON.parse(await fs.readFile(path.join(pkgDir, "package.json"), "utf8")) as {
    version: string;
  };
  await fs.writeFile(
    path.join(tmp, "update-check", "wrangler-latest.json"),
    JSON.stringify({ latest: version, lastUpdate: Date.now() + 24 * 3600_000 }),
  );
  const env: NodeJS.ProcessEnv = {
    PATH: process.env["PATH"] ?? "/usr/bin:/bin",
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, ".config"),
    TMPDIR: tmp,
    CI: "1",
    NO_COLOR: "1",
    FORCE_COLOR: "0",
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_SEND_ERROR_REPORTS: "false",
    WRANGLER_HIDE_BANNER: "true",
    CLOUDFLARE_API_BASE_URL: edge.apiUrl,
    CLOUDFLARE_API_TOKEN: edge.token,
    CLOUDFLARE_ACCOUNT_ID: accountId,
    // The run's shared compile cache (test/support/global-setup.ts): faster start-ups, nothing else.
    ...(process.env["NODE_COMPILE_CACHE"] ? { NODE_COMPILE_CACHE: process.env["NODE_COMPILE_CACHE"] } : {}),
  };
  const run = (args: string[], opts: { input?: string; timeoutMs?: number } = {}) =>
    new Promise<WranglerRun>((resolve) => {
      const child = execFile(
        process.execPath,
        [wranglerBin, ...args],
        { cwd: dir, env, timeout: opts.timeoutMs ?? 45_000, maxBuffer: 16 * 1024 * 1024, killSignal: "SIGKILL" },
        (err, stdout, stderr) => {
          const e = err as (NodeJS.ErrnoException & { code?: number | string; killed?: boolean }) | null;
          resolve({
            args,
            code: e ? (typeof e.code === "number" ? e.code : -1) : 0,
            stdout: String(stdout),
            stderr: String(stderr),
            timedOut: Boolean(e?.killed),
          });
        },
      );
      child.stdin?.end(opts.input ?? "");
    });
  const start = (args: string[]): WranglerProcess => {
    const child = spawn(process.execPath, [wranglerBin, ...args], { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
    const exited = new Promise<number>((resolve) => child.on("exit", (code) => resolve(code ?? -1)));
    return { args, stdout: () => out, stderr: () => err, exited, signal: (sig) => void child.kill(sig) };
  };
  const project: WranglerProject = {
    dir,
    start,
    async writeConfig(config) {
      await fs.writeFile(path.join(dir, "wrangler.jsonc"), `// written by the test\n${JSON.stringify(config, null, 2)}\n`);
    },
    async writeSource(source) {
      await fs.writeFile(path.join(dir, "src", "index.js"), source);
    },
    async writeFile(rel, content) {
      await fs.mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
      await fs.writeFile(path.join(dir, rel), content);
    },
    run,
    async ok(args, opts) {
      const r = await run(args, opts);
      if (r.code !== 0) throw new Error(describeRun(r));
      return r;
    },
  };
  return project;
}

/** Pulls a labelled id (e.g. "Worker Version ID: …") out of wrangler's output. */
export function parseLabelledId(r: WranglerRun, label: string): string {
  const m = new RegExp(`${label}:\\s*([0-9a-fA-F-]{32,36})`).exec(r.stdout + r.stderr);
  if (!m) throw new Error(`no "${label}" in output of ${describeRun(r)}`);
  return m[1]!;
}

/** The first JSON value (object or array) printed on stdout, for commands with `--json` output. */
export function parseJsonOutput<T>(r: WranglerRun): T {
  const start = r.stdout.search(/^[[{]/m);
  if (start < 0) throw new Error(`no JSON in output of ${describeRun(r)}`);
  try {
    return JSON.parse(r.stdout.slice(start)) as T;
  } catch (err) {
    throw new Error(`unparsable JSON (${String(err)}) in output of ${describeRun(r)}`);
  }
}

/** Cloudflare prints version ids with hyphens, but a 32-hex id may come back re-hyphenated. */
export function sameId(a: string, b: string): boolean {
  return a.replaceAll("-", "").toLowerCase() === b.replaceAll("-", "").toLowerCase();
}
