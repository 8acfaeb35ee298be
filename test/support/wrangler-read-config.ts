// Child process: runs a real wrangler's unstable_readConfig({ config, env }) for each job and prints
// one JSON line per job, `{ config }` (undefined values dropped) or `{ error }`. Run as
//   node test/support/wrangler-read-config.ts <latest|4.86> '<jobs JSON>'
// with the config file's directory as cwd per job (wrangler makes some paths cwd-relative).
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [version, jobsJson] = process.argv.slice(2) as [string, string];
const pkg = version === "4.86" ? "wrangler-4.86" : "wrangler";
const root = new URL("../../", import.meta.url).pathname;
const wrangler = (await import(pathToFileURL(join(root, "node_modules", pkg, "wrangler-dist", "cli.js")).href)) as {
  unstable_readConfig: (args: { config: string; env?: string }, opts: { hideWarnings: boolean }) => unknown;
};
const jobs = JSON.parse(jobsJson) as { config: string; env?: string; cwd: string }[];
for (const job of jobs) {
  process.chdir(job.cwd);
  try {
    const config = wrangler.unstable_readConfig(
      { config: job.config, ...(job.env !== undefined ? { env: job.env } : {}) },
      { hideWarnings: true },
    );
    process.stdout.write(JSON.stringify({ config }) + "\n");
  } catch (e) {
    process.stdout.write(JSON.stringify({ error: (e as Error).message }) + "\n");
  }
}
