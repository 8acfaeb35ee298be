// Runs the real `cbo` binary (bin/cbo.js on this Node) as a child process, as a user would.
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

export const CBO_BIN = fileURLToPath(new URL("../../bin/cbo.js", import.meta.url));

export type CboRun = { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string };

/** A clean environment: no CBO_* from the developer's shell, no colour, plus `env`. */
export function cboEnv(env: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("CBO_") && k !== "FORCE_COLOR"));
  return { ...base, ...env };
}

export function startCbo(
  args: string[],
  opts: { env?: Record<string, string | undefined>; cwd?: string } = {},
): ChildProcess & { output: CboRun; done: Promise<CboRun> } {
  const child = spawn(process.execPath, [CBO_BIN, ...args], {
    cwd: opts.cwd ?? process.cwd(),
    env: cboEnv(opts.env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: CboRun = { code: null, signal: null, stdout: "", stderr: "" };
  child.stdout!.setEncoding("utf8").on("data", (s: string) => (output.stdout += s));
  child.stderr!.setEncoding("utf8").on("data", (s: string) => (output.stderr += s));
  const done = new Promise<CboRun>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      output.code = code;
      output.signal = signal;
      resolve(output);
    });
  });
  return Object.assign(child, { output, done });
}

export async function runCbo(
  args: string[],
  opts: { env?: Record<string, string | undefined>; cwd?: string; timeoutMs?: number } = {},
): Promise<CboRun> {
  const child = startCbo(args, opts);
  const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 30_000);
  try {
    return await child.done;
  } finally {
    clearTimeout(timer);
  }
}
