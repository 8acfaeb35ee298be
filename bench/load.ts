// Requests per second against one URL, measured by autocannon in a child process.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export type LoadOptions = {
  url: string;
  /** Host header to send (the local edge routes Workers by host name). */
  host?: string;
  /** More request headers (e.g. authorization). */
  headers?: Record<string, string>;
  connections?: number;
  durationSec?: number;
  warmupSec?: number;
  /** Every response body must equal this, else it counts as a mismatch. */
  expectBody?: string;
};

export type LoadResult = {
  durationSec: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  mismatches: number;
  /** Successful (2xx) responses per second. */
  rps: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
};

const childScript = fileURLToPath(new URL("./load-child.ts", import.meta.url));

export function measureLoad(opts: LoadOptions): Promise<LoadResult> {
  const full = { connections: 32, durationSec: 5, warmupSec: 1, ...opts };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [childScript, JSON.stringify(full)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`load generator exited with ${code}: ${out}`));
      try {
        const result = JSON.parse(out) as LoadResult;
        if (result.ok === 0) return reject(new Error(`no successful response from ${opts.url}: ${out}`));
        resolve(result);
      } catch {
        reject(new Error(`load generator printed no JSON: ${out}`));
      }
    });
  });
}
