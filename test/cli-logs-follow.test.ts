// `cbo logs --follow` (the real CLI, as a child process) merges three regions: a real daemon on a
// real three-region local edge opens one tail session per target for the followed Worker (shared
// by every follower), and requests served in each region show up on the CLI labelled by target.
// --status error keeps only the failures; Ctrl-C ends the follow and the daemon closes the
// sessions. Without `logs:` in orchestrator.yaml, `cbo logs` (not following) says no lines are kept.
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { Daemon } from "../src/daemon.ts";
import { startDaemonIn } from "./support/daemon-rig.ts";
import { apiOk } from "./support/api.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { eventually, httpGet } from "./support/http.ts";
import { runCbo, startCbo } from "./support/run-cbo.ts";
import { ALL_AT_ONCE, fleetYaml } from "./support/orchestrator.ts";

const REGIONS = ["eu", "us", "ap"];
const WORKER = `export default {
  async fetch(req, env) {
    const u = new URL(req.url);
    console.log("hello from", u.searchParams.get("m"));
    if (u.pathname === "/boom") throw new Error("boom " + u.searchParams.get("m"));
    return new Response("ok");
  },
};
`;
const SPEC = fleetYaml({
  regions: REGIONS,
  ...ALL_AT_ONCE,
  workers: ["chatty"],
});

type Line = { target: string; worker: string; verdict: string; outcome: string; logs: Array<{ message: unknown[] }>; versionId: string };

describe("cbo logs --follow merges three regions", () => {
  let t: TestEdge;
  let dir: string;
  let d: Daemon;
  let token: string;
  const port = (region: string) => t.edge.regions.find((r) => r.name === region)!.port;
  const hit = (region: string, m: string, path = "/") => httpGet(port(region), "chatty.localhost", { path: `${path}?m=${m}` });
  const edgeTails = async (region: string) =>
    apiOk<Array<{ id: string }>>(
      t.edge,
      "GET",
      `/accounts/${t.edge.regions.find((r) => r.name === region)!.accountId}/workers/scripts/chatty/tails`,
    );
  const linesOf = (stdout: string) =>
    stdout
      .split("\n")
      .filter((l) => l.trim().startsWith("{"))
      .map((l) => JSON.parse(l) as Line);
  const cli = (args: string[]) => ["logs", "chatty", ...args, "--json", "--url", d.url, "--token", token];

  beforeAll(async () => {
    t = await startTestEdge({ regions: REGIONS });
    dir = await makeTempDir("cli-logs");
    writeFileSync(join(dir, "orchestrator.yaml"), SPEC);
    writeFileSync(join(dir, "chatty.js"), WORKER);
    d = await startDaemonIn(dir, t.edge, {
      fleetLogs: { reconcileMs: 200, tail: { backoff: { baseMs: 100, maxMs: 500 } } },
    });
    token = d.initialAdminToken!;
    const r = await fetch(new URL("/v1/releases", d.url), {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ worker: "chatty" }),
    });
    expect((await d.engine.wait(((await r.json()) as { id: string }).id)).status).toBe("succeeded");
  }, 120_000);
  afterAll(async () => {
    await d?.close();
    await t?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("prints requests served in each region, labelled by target, and only the failures with --status error", async () => {
    const all = startCbo(cli(["--follow"]));
    const errors = startCbo(cli(["--follow", "--status", "error"]));
    try {
      // Requests until every region's line has reached the CLI (the sessions open as the follow starts).
      const lines = await eventually(
        async () => {
          for (const region of REGIONS) {
            await hit(region, `from-${region}`);
            await hit(region, `fail-${region}`, "/boom");
          }
          const got = linesOf(all.output.stdout);
          const seen = REGIONS.filter((r) => got.some((l) => l.target === r && JSON.stringify(l.logs).includes(`from-${r}`)));
          const failed = REGIONS.filter((r) => linesOf(errors.output.stdout).some((l) => l.target === r));
          if (seen.length < 3 || failed.length < 3)
            throw new Error(`lines from ${seen.join(",")}; errors from ${failed.join(",")}\n${all.output.stderr}`);
          return got;
        },
        30_000,
        300,
      );
      for (const l of lines) {
        expect(l.worker).toBe("chatty");
        // Each line carries the target its session runs in: a region's marker never shows under another.
        const marker = JSON.stringify(l.logs).match(/(?:from|fail)-(eu|us|ap)/)?.[1];
        expect(marker).toBe(l.target);
        expect(l.versionId).toMatch(/^[0-9a-f-]{32,36}$/);
      }
      const failures = linesOf(errors.output.stdout);
      expect(failures.every((l) => l.verdict === "error" && l.outcome === "exception")).toBe(true);
      expect(failures.some((l) => JSON.stringify(l.logs).includes("from-"))).toBe(false);
      expect(all.output.stderr).toContain("following chatty on every target");
      // Two followers, one session per target.
      for (const region of REGIONS) expect((await edgeTails(region)).length).toBe(1);
    } finally {
      all.kill("SIGINT");
      errors.kill("SIGINT");
    }
    expect((await all.done).code).toBe(0);
    expect((await errors.done).code).toBe(0);
    // Nobody follows any more: the daemon closes its sessions (and deletes them on the edge).
    await eventually(async () => {
      const left = (await Promise.all(REGIONS.map(edgeTails))).flat();
      if (left.length > 0) throw new Error(`${left.length} sessions left`);
    }, 15_000);
  });

  it("prints pretty lines without --json, and refuses an unknown worker", async () => {
    const pretty = startCbo(["logs", "chatty", "--follow", "--target", "us", "--url", d.url, "--token", token]);
    try {
      await eventually(
        async () => {
          await hit("us", "pretty-us");
          await hit("eu", "pretty-eu");
          if (!pretty.output.stdout.includes("pretty-us")) throw new Error(pretty.output.stdout);
        },
        30_000,
        300,
      );
      expect(pretty.output.stdout).toMatch(
        /\d\d:\d\d:\d\d \[us\] chatty [0-9a-f]{8} {2}GET http:\/\/chatty\.localhost\/\?m=pretty-us → 200 Ok\n {2}\(log\) hello from pretty-us/,
      );
      expect(pretty.output.stdout).not.toContain("pretty-eu");
    } finally {
      pretty.kill("SIGINT");
    }
    await pretty.done;
    const unknown = await runCbo(["logs", "nope", "--follow", "--url", d.url, "--token", token]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("ERR_NOT_FOUND");
  });

  it("takes the token as the stream's subprotocol, answering cbo.v1 only, and refuses it in the URL", async () => {
    const base = d.url.replace(/^http/, "ws");
    const ws = new WebSocket(`${base}/v1/logs/stream?worker=chatty`, ["cbo.v1", `cbo.token.${token}`]);
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    expect(ws.protocol).toBe("cbo.v1");
    ws.close();
    const inUrl = new WebSocket(`${base}/v1/logs/stream?worker=chatty&token=${token}`);
    const status = await new Promise<number>((resolve) => inUrl.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0)));
    expect(status).toBe(400);
    const denied = d.security.audit.search({ action: "auth.token_in_url", limit: 10 });
    expect(denied.some((e) => e.target === "GET /v1/logs/stream")).toBe(true);
    expect(JSON.stringify(denied)).not.toContain(token);
    const none = new WebSocket(`${base}/v1/logs/stream?worker=chatty`, ["cbo.v1"]);
    const closed = await new Promise<{ code: number; reason: string }>((resolve) =>
      none.once("close", (code, reason) => resolve({ code, reason: String(reason) })),
    );
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/^ERR_UNAUTHORIZED/);
  });

  it("says that this daemon keeps no lines when orchestrator.yaml has no logs:", async () => {
    const r = await runCbo(["logs", "chatty", "--url", d.url, "--token", token]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("ERR_CONFLICT");
    expect(r.stderr).toMatch(/keeps no fleet logs/);
    // The way out names this worker, so it runs as printed.
    expect(r.stderr).toMatch(/follow them live \((npx )?cbo logs chatty --follow\)/);
  });
});
