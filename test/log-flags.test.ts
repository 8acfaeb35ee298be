// --log-format and --log-level on `cbo daemon` and `cbo up` (and CBO_LOG_FORMAT / CBO_LOG_LEVEL):
// a misspelt value is refused before anything starts, naming what is accepted.
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { generateKeyFile } from "../src/vault/index.ts";
import { logSettings } from "../src/telemetry/index.ts";
import { makeTempDir, startTestEdge } from "./support/edge.ts";
import { runCbo, startCbo } from "./support/run-cbo.ts";

describe("log flags", () => {
  it("flags win over the environment, which wins over the defaults", () => {
    expect(logSettings({ env: {} })).toEqual({ format: "text", level: "info" });
    expect(logSettings({ env: { CBO_LOG_FORMAT: "json", CBO_LOG_LEVEL: "debug" } })).toEqual({ format: "json", level: "debug" });
    expect(logSettings({ format: "text", level: "warn", env: { CBO_LOG_FORMAT: "json" } })).toEqual({ format: "text", level: "warn" });
  });

  it("the real cbo refuses a bad format or level with ERR_VALIDATION and exit 1, for daemon and up", async () => {
    for (const args of [
      ["daemon", "--log-format", "xml"],
      ["up", "--log-level", "loud"],
    ]) {
      const run = await runCbo(args, { timeoutMs: 20_000 });
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toMatch(/ERR_VALIDATION: Unknown log (format "xml"|level "loud")/);
    }
    const env = await runCbo(["daemon"], { env: { CBO_LOG_FORMAT: "yaml" }, timeoutMs: 20_000 });
    expect(env.code).toBe(1);
    expect(env.stderr).toContain('Unknown log format "yaml"');
  });

  it("a real `cbo daemon --log-format json` writes only JSON lines on stderr, its access log with request and trace ids", async () => {
    const t = await startTestEdge({ regions: ["eu"] });
    const dir = await makeTempDir("log-json");
    try {
      writeFileSync(join(dir, "orchestrator.yaml"), "version: 1\ntargets:\n  - { name: eu, api: local }\nworkers: []\n");
      generateKeyFile(join(dir, "master.key"));
      const child = startCbo(["daemon", "--edge", t.dataDir, "--data", join(dir, "data"), "--port", "0", "--log-format", "json"], {
        cwd: dir,
        env: { CBO_MASTER_KEY_FILE: join(dir, "master.key") },
      });
      const end = Date.now() + 30_000;
      while (!child.output.stdout.includes("\n") && Date.now() < end && child.exitCode === null)
        await new Promise((r) => setTimeout(r, 50));
      const { url } = JSON.parse(child.output.stdout.split("\n")[0]!) as { url: string };
      const token = readFileSync(join(dir, "data", "admin-token"), "utf8").trim();
      const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
      const res = await fetch(new URL("/v1/workers", url), {
        headers: { authorization: `Bearer ${token}`, traceparent, "x-request-id": "req-42" },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get("traceparent")).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
      expect(res.headers.get("x-request-id")).toBe("req-42");
      child.kill("SIGTERM");
      const run = await child.done;
      const lines = run.stderr.split("\n").filter((l) => l !== "");
      const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(parsed.find((p) => p.msg === "api request" && p.route === "/v1/workers")).toMatchObject({
        level: "info",
        method: "GET",
        status: 200,
        principal: "initial admin",
        request_id: "req-42",
        trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
      });
      expect(parsed.some((p) => String(p.msg).includes("SIGTERM"))).toBe(true);
      expect(run.stderr).not.toContain(token);
    } finally {
      await t.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
