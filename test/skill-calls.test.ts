// The skill's shell, run as an assistant would run it: the `api` function and the calls of
// skills/cf-orchestrator/SKILL.md, taken from the file itself, through real bash and curl with an
// `agent` token against a real daemon on a real local edge. Every read it teaches answers 200 (or
// the error the skill tells the assistant to expect there), and the secret rotation pipe stores the
// file's bytes without the value showing in anything curl printed.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Daemon } from "../src/daemon.ts";
import { startMcpDaemon } from "./support/mcp-client.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { fleetYaml, versionSource, writeFleet } from "./support/orchestrator.ts";

const SKILL = readFileSync(fileURLToPath(new URL("../skills/cf-orchestrator/SKILL.md", import.meta.url)), "utf8");
const GATE = { probe_path: "/", interval_ms: 50, timeout_ms: 1000, failure_limit: 3, max_error_rate: 0.05, bake_ms: 200, min_samples: 3 };

/** The skill's `api` function definition, as the assistant copies it. */
const API_FN = /^api\(\) \{.*\}$/m.exec(SKILL)?.[0];
/** Every read the skill teaches: `api "$CBO_URL/v1/…"` lines (no -X), without their comments. */
const READS = [...SKILL.matchAll(/^api "\$CBO_URL\/v1\/[^"]*"/gm)].map((m) => m[0]);

/** The errors the skill tells the assistant to expect on a read, by path (and why). */
const EXPECTED_ERRORS: Array<{ path: RegExp; code: string }> = [
  // "A worker whose logs are not kept answers ERR_CONFLICT" (this fleet keeps none).
  { path: /^\/v1\/logs\?/, code: "ERR_CONFLICT" },
  // D1 restore needs a release that migrated a D1 database; this fleet has none.
  { path: /^\/v1\/d1\/restore\?/, code: "ERR_NOT_FOUND" },
];

describe("the skill's shell commands, run with bash and curl against a real daemon", () => {
  let t: TestEdge;
  let dir: string;
  let daemon: Daemon;
  let token: string;
  let releaseId: string;

  // Asynchronous: the daemon answering curl runs in this process.
  const bash = (script: string) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn("bash", ["--norc", "--noprofile", "-c", `${API_FN}\n${script}`], {
        env: { PATH: process.env.PATH, CBO_URL: daemon.url, CBO_TOKEN: token },
        stdio: ["ignore", "pipe", "pipe"],
        timeout: 20_000,
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
      child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
      child.on("error", reject);
      child.on("close", (code) => resolve({ code, stdout, stderr }));
    });
  /** A skill line with its placeholders filled in the way the assistant would. */
  const fill = (line: string) =>
    line
      .replace(/\/v1\/secrets\/NAME/g, "/v1/secrets/API_KEY")
      .replace(/NAME/g, "hello")
      .replace(/VERSION_OR_RELEASE_ID|RELEASE_ID/g, releaseId);

  beforeAll(async () => {
    expect(API_FN).toBeDefined();
    t = await startTestEdge({ regions: ["eu", "us"] });
    dir = await makeTempDir("skill-calls");
    const fleet = await writeFleet(
      dir,
      fleetYaml({
        workers: ["hello"],
        steps: [100],
        gate: GATE,
        perWorker: { hello: { secrets: ["API_KEY"], config: { values: { bid: 1 } } } },
      }).replace("  - { name: ap, api: local }\n", ""),
      { hello: versionSource("v1") },
    );
    daemon = await startMcpDaemon(dir, fleet.file, t.edge);
    const res = await fetch(`${daemon.url}/v1/tokens`, {
      method: "POST",
      headers: { authorization: `Bearer ${daemon.initialAdminToken}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "clawdbot", role: "agent" }),
    });
    token = ((await res.json()) as { token: string }).token;
    daemon.security.vault.put("API_KEY", "initial-api-key", { cas: 0, mode: "binding", by: "test" });
    for (const tag of ["v1", "v2"]) {
      await fleet.setSource("hello", versionSource(tag));
      const r = await daemon.engine.wait((await daemon.engine.release("hello", { by: "test" })).id);
      expect(r.status).toBe("succeeded");
      releaseId = r.id;
    }
  }, 120_000);

  afterAll(async () => {
    await daemon?.close();
    await t?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("every read it teaches answers, or fails only where the skill says it does", async () => {
    expect(READS.length).toBeGreaterThan(15);
    for (const line of READS) {
      const run = await bash(fill(line));
      const path = /\$CBO_URL(\/v1\/[^"]*)/.exec(line)![1]!;
      const expected = EXPECTED_ERRORS.find((e) => e.path.test(path));
      if (run.code === 0) {
        expect(() => JSON.parse(run.stdout), line).not.toThrow();
        continue;
      }
      // --fail-with-body: exit 22 with the error body on stdout.
      expect(expected, `${line} failed: ${run.stdout}${run.stderr}`).toBeDefined();
      expect((JSON.parse(run.stdout) as { error: { code: string } }).error.code, line).toBe(expected!.code);
    }
  });

  it("the rotation pipe from a file stores its bytes, and nothing curl printed holds them", async () => {
    const block = /```sh\nCAS=3[^\n]*\n([^]*?)```/.exec(SKILL)?.[1];
    expect(block).toBeDefined();
    const value = `rotated-${randomBytes(16).toString("hex")}`;
    const file = join(dir, "new-value");
    writeFileSync(file, value, { mode: 0o600 });
    const run = await bash(`CAS=1\n${fill(block!).replace("/path/the/user/named", file)}`);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ name: "API_KEY", version: 2 });
    expect(Buffer.from(daemon.security.vault.get("API_KEY", { by: "test" }).value).toString("utf8")).toBe(value);
    expect(run.stdout + run.stderr).not.toContain(value);
  });

  it("the rollback it teaches, with the preview first, puts the earlier release's versions back", async () => {
    const preview = await bash(fill(/^api "\$CBO_URL\/v1\/workers\/NAME\/rollback\/preview"/m.exec(SKILL)![0]));
    expect(preview.code, preview.stdout).toBe(0);
    const run = await bash(fill(/^api -X POST "\$CBO_URL\/v1\/workers\/NAME\/rollback" -d '\{\}'/m.exec(SKILL)![0]));
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ kind: "rollback", worker: "hello" });
  });
});
