// `cbo init` end to end, the real binary as a child process: against a fresh data directory and
// the local edge it ends with a released Worker that answers over HTTP; the daemon it leaves
// serving (--serve) reports the same steps on GET /v1/setup and runs the first-release step; then
// everything stops. The Cloudflare path runs against a local edge's Cloudflare-compatible API
// (real HTTP): a token it refuses fails the step with the fix naming the token's permissions.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { createServer, type AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditEntryResponse, Page, ReleaseDetail } from "../src/contract/index.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { httpGet } from "./support/http.ts";
import { runCbo, startCbo } from "./support/run-cbo.ts";
import { fill, freeUp, mountTmpfs, unmount } from "./support/tmpfs.ts";

type Step = { id: string; title: string; status: string; detail: string; fix?: string };
type Done = {
  event: "done";
  ok: boolean;
  steps: Step[];
  dataDir: string;
  configFile: string;
  apiUrl?: string;
  adminTokenFile?: string;
  workers: Array<{ target: string; url: string }>;
};
type Line = { event: string; step?: Step };
const lines = (out: string) =>
  out
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Line);
const summaryOf = (out: string) => lines(out).find((l) => l.event === "done") as Done | undefined;
const statuses = (steps: Step[]) => Object.fromEntries(steps.map((s) => [s.id, s.status]));

async function until<T>(what: string, get: () => T | undefined, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("cbo init --local --yes on a fresh data directory", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir("init-local");
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("reports each step live, ends with a released Worker serving on the local edge, and the daemon's setup API agrees", async () => {
    const child = startCbo(["init", "--local", "--yes", "--json", "--serve", "--port", "0", "--edge-port", "0", "--data", "data"], {
      cwd: dir,
    });
    try {
      const done = await until("the summary line", () => summaryOf(child.output.stdout), 180_000);
      expect(done.ok, child.output.stderr).toBe(true);
      expect(statuses(done.steps)).toEqual({
        "master-key": "done",
        cloudflare: "done",
        targets: "done",
        tunnel: "skipped",
        "first-release": "done",
      });
      // Live: every step was reported running before its outcome, in order.
      const events = lines(child.output.stdout)
        .filter((l) => l.event === "step")
        .map((l) => `${l.step!.id}:${l.step!.status}`);
      expect(events).toEqual([
        "master-key:running",
        "master-key:done",
        "cloudflare:running",
        "cloudflare:done",
        "targets:running",
        "targets:done",
        "tunnel:running",
        "tunnel:skipped",
        "first-release:running",
        "first-release:done",
      ]);

      expect(statSync(join(dir, "data")).mode & 0o777).toBe(0o700);
      expect(statSync(join(dir, "data", "master.key")).mode & 0o777).toBe(0o600);
      expect(readFileSync(join(dir, "orchestrator.yaml"), "utf8")).toContain("main: workers/hello/index.js");

      // The released Worker answers in every region, from its released version.
      expect(done.workers.map((w) => w.target)).toEqual(["eu", "us", "ap"]);
      for (const w of done.workers) {
        const url = new URL(w.url);
        const r = await httpGet(Number(url.port), url.hostname);
        expect(r.status).toBe(200);
        expect(JSON.parse(r.body)).toMatchObject({
          message: "Hello from Clawdbot Orchestrator",
          worker: "hello",
          version: expect.any(String),
        });
      }

      // The daemon it left serving: GET /v1/setup reports the same steps; first-release runs again.
      const admin = readFileSync(done.adminTokenFile!, "utf8").trim();
      const api = async <T = unknown>(method: string, path: string, token: string, body?: unknown) => {
        const res = await fetch(done.apiUrl + path, {
          method,
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        return { status: res.status, body: (await res.json()) as T };
      };
      const setup = await api<{ steps: Step[] }>("GET", "/v1/setup", admin);
      expect(setup.status).toBe(200);
      expect(statuses(setup.body.steps)).toEqual({
        "master-key": "done",
        cloudflare: "done",
        targets: "done",
        tunnel: "skipped",
        "first-release": "done",
      });
      expect(setup.body.steps.find((s) => s.id === "targets")?.detail).toMatch(/eu reachable \(1 Worker\)/);

      const viewer = (await api<{ token: string }>("POST", "/v1/tokens", admin, { name: "dash viewer", role: "viewer" })).body.token;
      expect((await api("POST", "/v1/setup/first-release", viewer, {})).status).toBe(403);
      const run = await api<{ step: Step; releaseId?: string }>("POST", "/v1/setup/first-release", admin, { input: { worker: "hello" } });
      expect(run.status).toBe(200);
      // Nothing changed since the wizard released it: the release says so and does nothing.
      expect(run.body.step).toMatchObject({ id: "first-release", status: "done" });
      let status = "running";
      for (let i = 0; i < 300 && (status === "running" || status === "rolling_back"); i++) {
        await new Promise((r) => setTimeout(r, 200));
        status = (await api<ReleaseDetail>("GET", `/v1/releases/${run.body.releaseId}`, admin)).body.release.status;
      }
      expect(status).toBe("unchanged");
      const recorded = (await api<Page<AuditEntryResponse>>("GET", "/v1/audit?action=release.create", admin)).body.items;
      expect(recorded.some((e) => e.actor.startsWith("token:initial admin:") && e.details.from === "setup")).toBe(true);

      // The optional tunnel step is done once a tunnel exists (`cbo tunnel create` on the local edge).
      const tunnel = await runCbo(["tunnel", "create", "--data", "data"], { cwd: dir, timeoutMs: 60_000 });
      expect(tunnel.code, tunnel.stderr).toBe(0);
      const after = (await api<{ steps: Step[] }>("GET", "/v1/setup", admin)).body.steps.find((s) => s.id === "tunnel");
      expect(after).toMatchObject({ status: "done", detail: expect.stringContaining("a tunnel is configured") });
    } finally {
      child.kill("SIGINT");
      await child.done;
    }
    expect(child.output.code).toBe(0);
    // Everything stopped: the region no longer answers.
    const url = new URL(summaryOf(child.output.stdout)!.workers[0]!.url);
    await expect(httpGet(Number(url.port), url.hostname, { timeoutMs: 2_000 })).rejects.toThrow();
  });

  it("refuses orchestrator.yaml inside the data directory before writing anything", async () => {
    const run = await runCbo(["init", "--local", "--no-release", "--data", "inside", "--config", "inside/sub/orchestrator.yaml"], {
      cwd: dir,
      timeoutMs: 20_000,
    });
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain("ERR_VALIDATION");
    expect(run.stderr).toMatch(/is inside the data directory \S*inside: /);
    expect(run.stderr).toMatch(/--config .*orchestrator\.yaml/);
    expect(existsSync(join(dir, "inside"))).toBe(false);
  });

  it("a full disk under --config fails the targets step with ERR_DISK_FULL and leaves no empty file; freed, init finishes", async () => {
    const disk = join(dir, "small");
    mountTmpfs(disk, 1024 * 1024);
    try {
      fill(disk);
      const args = ["init", "--local", "--yes", "--no-release", "--json", "--edge-port", "0", "--data", "full-data"];
      const config = join(disk, "proj", "orchestrator.yaml");
      const full = await runCbo([...args, "--config", config], { cwd: dir, timeoutMs: 60_000 });
      const failed = summaryOf(full.stdout)!.steps.find((s) => s.id === "targets")!;
      expect(failed).toMatchObject({
        status: "failed",
        detail: expect.stringMatching(/^The disk holding .*proj\/workers\/hello\/index\.js is full \(/),
      });
      expect(failed.fix).toMatch(/^Free at least .* on the filesystem of /);
      // Nothing under the real names: an empty example Worker was kept by the next run and released.
      const files = (d: string): string[] =>
        readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(d, e.name)) : [join(d, e.name)]));
      expect(files(disk)).toEqual([join(disk, "filler")]);
      freeUp(disk, 256 * 1024);
      const again = await runCbo([...args, "--config", config], { cwd: dir, timeoutMs: 60_000 });
      expect(summaryOf(again.stdout)?.ok, again.stderr).toBe(true);
      expect(readFileSync(join(disk, "proj", "workers", "hello", "index.js"), "utf8")).toMatch(/export default/);
    } finally {
      unmount(disk);
    }
  });

  it("refuses to guess without a terminal: --local, --account-id or --yes", async () => {
    const run = await runCbo(["init", "--data", "other"], { cwd: dir, timeoutMs: 20_000 });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("--local");
  });
});

describe("cbo init with Cloudflare accounts (the local edge's Cloudflare-compatible API)", () => {
  let t: TestEdge;
  let dir: string;
  beforeAll(async () => {
    t = await startTestEdge({ regions: ["eu"] });
    dir = await makeTempDir("init-cf");
  });
  afterAll(async () => {
    await t?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  const init = (name: string, tokenFile: string) =>
    runCbo(
      [
        "init",
        "--json",
        "--no-release",
        "--data",
        `${name}/data`,
        "--config",
        `${name}/orchestrator.yaml`,
        "--account-id",
        t.region.accountId,
        "--api-token-file",
        tokenFile,
        "--api-url",
        t.edge.apiUrl,
      ],
      { cwd: dir, timeoutMs: 60_000 },
    );

  it("a token the API refuses fails the Cloudflare step with a fix naming the permissions; later steps stay pending", async () => {
    const file = join(dir, "bad-token");
    writeFileSync(file, "not-the-token\n", { mode: 0o600 });
    const run = await init("bad", file);
    expect(run.code).toBe(1);
    const done = summaryOf(run.stdout)!;
    expect(statuses(done.steps)).toEqual({
      "master-key": "done",
      cloudflare: "failed",
      targets: "pending",
      tunnel: "pending",
      "first-release": "pending",
    });
    const cf = done.steps.find((s) => s.id === "cloudflare")!;
    expect(cf.detail).toMatch(/Cloudflare did not accept the API token/);
    expect(cf.fix).toMatch(/Workers Scripts:Edit.*Workers KV Storage:Edit.*Account Settings:Read/);
    expect(run.stdout + run.stderr).not.toContain("not-the-token");
  });

  it("an API it cannot reach is a network problem, not a refused token: ERR_CF_UNAVAILABLE, exit 2", async () => {
    const file = join(dir, "offline-token");
    writeFileSync(file, t.edge.token + "\n", { mode: 0o600 });
    // A port nothing listens on: connection refused, as with no network.
    const closed = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, "127.0.0.1", () => {
        const port = (srv.address() as AddressInfo).port;
        srv.close(() => resolve(port));
      });
    });
    const apiUrl = `http://127.0.0.1:${closed}/client/v4`;
    const run = await runCbo(
      ["init", "--json", "--no-release", "--data", "offline/data", "--config", "offline/orchestrator.yaml"].concat([
        "--account-id",
        t.region.accountId,
        "--api-token-file",
        file,
        "--api-url",
        apiUrl,
      ]),
      { cwd: dir, timeoutMs: 60_000 },
    );
    expect(run.code, run.stderr).toBe(2);
    const cf = summaryOf(run.stdout)!.steps.find((s) => s.id === "cloudflare")!;
    expect(cf.status).toBe("failed");
    expect(cf.detail).toMatch(new RegExp(`^Could not reach the Cloudflare API at ${apiUrl.replace(/[/.]/g, "\\$&")}: `));
    expect(cf.detail).not.toMatch(/did not accept/);
    expect(cf.fix).toMatch(/the network, not the token: check DNS, a proxy/);
  });

  it("a token file others can read is refused before it is used", async () => {
    const file = join(dir, "open-token");
    writeFileSync(file, t.edge.token, { mode: 0o644 });
    const run = await init("open", file);
    expect(run.code).toBe(1);
    const cf = summaryOf(run.stdout)!.steps.find((s) => s.id === "cloudflare")!;
    expect(cf).toMatchObject({ status: "failed", fix: `chmod 600 ${file}` });
  });

  it("a good token: the account is found, orchestrator.yaml names it, the target answers; the release is left for later", async () => {
    const file = join(dir, "good-token");
    writeFileSync(file, t.edge.token + "\n", { mode: 0o600 });
    const run = await init("good", file);
    expect(run.code, run.stderr).toBe(0);
    const done = summaryOf(run.stdout)!;
    expect(statuses(done.steps)).toEqual({
      "master-key": "done",
      cloudflare: "done",
      targets: "done",
      tunnel: "skipped",
      "first-release": "skipped",
    });
    expect(done.steps.find((s) => s.id === "cloudflare")!.detail).toContain(`(${t.region.accountId})`);
    expect(done.steps.find((s) => s.id === "targets")!.detail).toMatch(/cf reachable/);
    const yaml = readFileSync(join(dir, "good", "orchestrator.yaml"), "utf8");
    expect(yaml).toContain(`{ name: cf, api: ${t.edge.apiUrl}, account_id: ${t.region.accountId} }`);
    expect(yaml).not.toContain(t.edge.token);
    expect(run.stdout + run.stderr).not.toContain(t.edge.token);
  });
});
