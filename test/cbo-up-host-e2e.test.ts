// Issue 11, items 2 and 6, through the real `cbo up` (a child process, umask 022) with the
// operator's secrets in its environment: CBO_MASTER_KEY, CLOUDFLARE_API_TOKEN and a third-party
// credential. Once it is up and has released a Worker (so esbuild and workerd run):
// - no child process (workerd per region, esbuild) has any of those values in its environment
//   (/proc/<pid>/environ, `ps e`), and none is on any command line (`ps`);
// - its data directory and the edge's state inside it are 0700 directories of 0600 files.
import { randomBytes } from "node:crypto";
import { readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempDir } from "./support/edge.ts";
import { descendants, psOutput } from "./support/processes.ts";
import { startCbo } from "./support/run-cbo.ts";

const SPEC = `version: 1
targets:
  - { name: eu, api: local }
  - { name: us, api: local }
rollout:
  steps: [100]
  gate: { probe_path: /, interval_ms: 30, bake_ms: 60, min_samples: 1 }
workers:
  - { name: tiny, main: tiny.js }
`;

describe("cbo up on the host: children's environments, ps, file modes", () => {
  const planted = {
    CBO_MASTER_KEY: randomBytes(32).toString("base64"),
    CLOUDFLARE_API_TOKEN: `pl4nted-cf-${randomBytes(8).toString("hex")}`,
    AWS_SECRET_ACCESS_KEY: `pl4nted-aws-${randomBytes(8).toString("hex")}`,
  };
  let dir: string;
  let data: string;
  let up: ReturnType<typeof startCbo>;

  beforeAll(async () => {
    dir = await makeTempDir("up-host");
    data = join(dir, "data");
    writeFileSync(join(dir, "orchestrator.yaml"), SPEC);
    writeFileSync(join(dir, "tiny.js"), 'export default { fetch() { return new Response("tiny") } }');
    const saved = process.umask(0o022);
    try {
      up = startCbo(
        ["up", "--config", join(dir, "orchestrator.yaml"), "--data", data, "--port", "0", "--edge-port", "0", "--regions", "eu,us"],
        { cwd: dir, env: planted },
      );
    } finally {
      process.umask(saved);
    }
    const deadline = Date.now() + 60_000;
    while (!up.output.stdout.includes("Clawdbot Orchestrator is up")) {
      if (up.exitCode !== null || Date.now() > deadline)
        throw new Error(`cbo up did not come up:\n${up.output.stdout}\n${up.output.stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(up.output.stdout).toMatch(/tiny\s+succeeded/);
  }, 90_000);
  afterAll(async () => {
    if (up && up.exitCode === null) {
      up.kill("SIGTERM");
      await up.done;
    }
  });

  it("no child has the daemon's secrets in its environment, and none is on a command line", () => {
    const kids = descendants(up.pid!);
    // The processes the finding named are there to be looked at.
    expect(kids.filter((k) => /workerd/.test(k.command)).length).toBeGreaterThanOrEqual(2);
    expect(kids.some((k) => /esbuild/.test(k.command))).toBe(true);
    const hits: string[] = [];
    for (const k of kids) {
      for (const [name, value] of Object.entries(planted))
        if (k.environ.includes(value)) hits.push(`${name} in the environment of ${k.pid} ${k.command}`);
    }
    const ps = psOutput(kids.map((k) => k.pid));
    for (const [name, value] of Object.entries(planted)) if (ps.includes(value)) hits.push(`${name} in ps output`);
    expect(ps).toContain("workerd");
    expect(hits).toEqual([]);
  });

  it("its data directory and the edge's state are 0700 directories of 0600 files", () => {
    const wrong: string[] = [];
    const seen: string[] = [];
    for (const f of ["", ...readdirSync(data, { recursive: true }).map(String)]) {
      const st = statSync(join(data, f));
      const want = st.isDirectory() ? 0o700 : 0o600;
      seen.push(f);
      if ((st.mode & 0o777) !== want) wrong.push(`${f || "."}: ${(st.mode & 0o777).toString(8)}`);
    }
    expect(seen).toEqual(
      expect.arrayContaining(["edge", "edge/edge.sqlite", "edge/edge.sqlite-wal", "edge/token", "orchestrator.sqlite", "admin-token"]),
    );
    expect(wrong).toEqual([]);
  });
});
