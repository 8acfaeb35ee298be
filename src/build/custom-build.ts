// `[build] command`, as wrangler's run-custom-build.ts: the command runs through a shell in its
// cwd before bundling, with WRANGLER_COMMAND=deploy, and the entry must exist afterwards.
//
// Differences, on purpose: it runs only when orchestrator.yaml allows it for the worker (it is
// arbitrary shell on the daemon's host), and with the scrubbed child environment (locale, PATH,
// proxies: never the daemon's keys or tokens) rather than the whole environment. Its output is
// kept (the last 64 KiB) for the error message when it fails.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { childEnv } from "../config/child-env.ts";
import { CboError } from "../kit/errors.ts";

const KEEP = 64 * 1024;

export type CustomBuildResult = { output: string; ms: number };

export async function runCustomBuild(opts: {
  command: string;
  cwd: string;
  entry?: string;
  worker: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}): Promise<CustomBuildResult> {
  const started = performance.now();
  let output = "";
  const code = await new Promise<number | string>((resolve, reject) => {
    const child = spawn(opts.command.trim(), {
      shell: true,
      cwd: opts.cwd,
      env: { ...childEnv(), WRANGLER_COMMAND: "deploy" },
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group, so that a timeout ends whatever the shell started.
      detached: true,
    });
    const keep = (b: Buffer) => {
      output = (output + b.toString("utf8")).slice(-KEEP);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    const kill = () => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(
      () => {
        kill();
        resolve("timeout");
      },
      opts.timeoutMs ?? 10 * 60_000,
    );
    opts.signal?.addEventListener("abort", kill, { once: true });
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(
        new CboError(
          "ERR_VALIDATION",
          `Worker ${opts.worker}: cannot start its build command \`${opts.command}\` in ${opts.cwd}: ${e.message}`,
          { hint: "Check `build.cwd` and the command." },
        ),
      );
    });
    child.on("close", (exit, signal) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", kill);
      resolve(exit ?? signal ?? "killed");
    });
  });
  if (code !== 0) {
    const why = code === "timeout" ? "timed out" : typeof code === "number" ? `exited with ${code}` : `was killed (${code})`;
    throw new CboError(
      "ERR_VALIDATION",
      `Worker ${opts.worker}: its build command \`${opts.command}\` ${why}.${output ? `\n${output.trimEnd().split("\n").slice(-20).join("\n")}` : ""}`,
      {
        details: { worker: opts.worker, command: opts.command, cwd: opts.cwd },
        hint: "Fix the build (run it by hand in that directory), then release again.",
      },
    );
  }
  if (opts.entry && !existsSync(opts.entry)) {
    throw new CboError(
      "ERR_VALIDATION",
      `Worker ${opts.worker}: the entry ${opts.entry} does not exist after its build command \`${opts.command}\` ran.`,
      {
        hint: "Point `main` at the file the build writes.",
      },
    );
  }
  return { output, ms: performance.now() - started };
}
