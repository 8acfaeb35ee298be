// `cbo` on PATH, as README's `npm link` puts it there: a link to bin/cbo.js, whose
// `#!/usr/bin/env node` finds the system's Node (20 on the machines this project targets, older
// than the 24 it needs). The command runs anyway, on the Node 24 that `npm install` fetched, with
// its arguments, output and exit code, and its hints say `cbo` (it was started as `cbo`). The
// link is a temporary directory first on PATH; the rest of PATH is the system's, without
// node_modules/.bin (which `npm test` puts first), and no npm_command (a shell, not npm, runs it).
// Where the system's Node is 24 already, the link runs on it and the same holds.
import { spawn } from "node:child_process";
import { symlinkSync } from "node:fs";
import { rm } from "node:fs/promises";
import { delimiter, join, sep } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempDir } from "./support/edge.ts";
import { CBO_BIN, cboEnv } from "./support/run-cbo.ts";

const systemPath = (process.env.PATH ?? "")
  .split(delimiter)
  .filter((d) => !d.includes(`node_modules${sep}.bin`))
  .join(delimiter);

function run(dir: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn("cbo", args, {
    cwd: dir,
    env: cboEnv({ PATH: `${dir}${delimiter}${systemPath}`, npm_command: undefined }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
  child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("cbo linked onto PATH, started by the system's Node", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir("cbo-on-path");
    symlinkSync(CBO_BIN, join(dir, "cbo"));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("cbo --version runs, on Node 24", async () => {
    const r = await run(dir, ["--version", "--json"]);
    expect(r.stderr).not.toContain("ERR_NODE_VERSION");
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { version: string; node: string };
    expect(Number(out.node.split(".")[0])).toBeGreaterThanOrEqual(24);
  });

  it("a usage error keeps its exit code and says `cbo` in its hint", async () => {
    const r = await run(dir, ["statsu"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error ERR_USAGE: Unknown command "statsu"');
    expect(r.stderr).toContain("Run `cbo help`");
  });
});
