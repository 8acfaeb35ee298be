// Runs the npm that runs this test run (npm sets npm_execpath for its scripts), on this Node; a
// plain `npm` from PATH otherwise. The npm_* variables of the surrounding `npm test` (its package,
// its lifecycle, npm_config_local_prefix naming this checkout) are not passed on: the child works
// on its own directory only, with the user's and the system's npm configuration as usual.
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

export async function npm(
  args: string[],
  opts: { cwd: string; timeoutMs?: number; env?: NodeJS.ProcessEnv },
): Promise<{ stdout: string; stderr: string }> {
  const cli = process.env.npm_execpath;
  const [cmd, pre] = cli && /npm-cli\.[cm]?js$/.test(cli) ? [process.execPath, [cli]] : ["npm", []];
  const env = Object.fromEntries(Object.entries(opts.env ?? process.env).filter(([k]) => !/^npm_/i.test(k)));
  return run(cmd, [...pre, ...args], { cwd: opts.cwd, timeout: opts.timeoutMs ?? 180_000, maxBuffer: 32 * 1024 * 1024, env });
}
