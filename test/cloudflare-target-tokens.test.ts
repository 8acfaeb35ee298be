// Cloudflare tokens per target and wrangler's environment variables, against a real local edge
// whose two regions stand in for two Cloudflare accounts, each with its own token (registered with
// the edge's PUT /__edge/tokens: a token reaches only its account, as on Cloudflare).
// - A target naming `api_token_secret` talks with the token the vault holds under that name: read
//   when the daemon starts and when orchestrator.yaml is reloaded, never logged, on the audit record.
// - CLOUDFLARE_ACCOUNT_ID is the account of a target without account_id; `cbo init` takes
//   CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID for --api-token-file and --account-id, and writes
//   no token to disk.
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ErrorBody, ReleasePlan, SetupStep } from "../src/contract/index.ts";
import { startDaemon, type Daemon } from "../src/daemon.ts";
import { generateKeyFile } from "../src/vault/index.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { runCbo } from "./support/run-cbo.ts";

const HELLO = "export default { fetch: () => new Response('hi') };\n";

/** Every file under `dir` (recursively), as text. */
function allText(dir: string): string {
  let out = "";
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    out += st.isDirectory() ? allText(p) : readFileSync(p).toString("latin1");
  }
  return out;
}

describe("a Cloudflare token per target, and CLOUDFLARE_* defaults", () => {
  let t: TestEdge;
  let api: string;
  let eu: string;
  let us: string;
  const tokenEu = `cf-eu-${randomBytes(16).toString("hex")}`;
  const tokenUs = `cf-us-${randomBytes(16).toString("hex")}`;
  const daemons: Daemon[] = [];
  const logs: string[] = [];

  const edgeCall = (path: string, token: string, init: RequestInit = {}) =>
    fetch(new URL(path, t.edge.apiUrl.replace(/\/client\/v4\/?$/, "/")), {
      ...init,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    });

  async function start(yaml: string, env: Record<string, string> = {}) {
    const dir = await makeTempDir("cf-tokens");
    writeFileSync(join(dir, "orchestrator.yaml"), yaml);
    writeFileSync(join(dir, "hello.js"), HELLO);
    const keyFile = join(dir, "master.key");
    generateKeyFile(keyFile);
    const d = await startDaemon({
      dataDir: join(dir, "data"),
      configFile: join(dir, "orchestrator.yaml"),
      masterKeyFile: keyFile,
      env,
      port: 0,
      monitorIntervalMs: 60_000,
      log: (l) => logs.push(l),
    });
    daemons.push(d);
    const call = async <T = unknown>(method: string, path: string, body?: unknown) => {
      const res = await fetch(new URL(path, d.url), {
        method,
        headers: { authorization: `Bearer ${d.initialAdminToken}`, "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, body: (await res.json()) as T };
    };
    /** Touches orchestrator.yaml and waits until the daemon has re-read it (and the tokens with it). */
    const reload = async () => {
      const before = logs.filter((l) => l.startsWith("spec: reloaded")).length;
      const later = new Date(Date.now() + 5_000 + Math.random() * 1000);
      utimesSync(join(dir, "orchestrator.yaml"), later, later);
      for (let i = 0; i < 100 && logs.filter((l) => l.startsWith("spec: reloaded")).length === before; i++) {
        await call("GET", "/v1/workers");
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    return { d, dir, call, reload };
  }

  beforeAll(async () => {
    t = await startTestEdge({ regions: ["eu", "us"] });
    api = t.edge.apiUrl;
    eu = t.edge.regions.find((r) => r.name === "eu")!.accountId;
    us = t.edge.regions.find((r) => r.name === "us")!.accountId;
    for (const [token, account] of [
      [tokenEu, eu],
      [tokenUs, us],
    ] as const) {
      const r = await edgeCall("/__edge/tokens", t.edge.token, { method: "PUT", body: JSON.stringify({ token, accounts: [account] }) });
      expect(r.status).toBe(200);
    }
  }, 60_000);
  afterAll(async () => {
    for (const d of daemons) await d.close();
    await t?.dispose();
  });

  it("the local edge refuses a scoped token on another account with Cloudflare's auth code, and lists only its own", async () => {
    expect((await edgeCall(`/client/v4/accounts/${eu}/workers/scripts`, tokenEu)).status).toBe(200);
    const other = await edgeCall(`/client/v4/accounts/${us}/workers/scripts`, tokenEu);
    expect(other.status).toBe(403);
    expect(((await other.json()) as { errors: Array<{ code: number }> }).errors[0]!.code).toBe(10000);
    const accounts = (await (await edgeCall("/client/v4/accounts", tokenEu)).json()) as { result: Array<{ id: string }> };
    expect(accounts.result.map((a) => a.id)).toEqual([eu]);
    // A scoped token is no admin: the edge's own routes stay the edge token's.
    expect((await edgeCall("/__edge/info", tokenEu)).status).toBe(401);
  });

  it("each target talks with the token its vault secret holds: read at start and on reload, never logged", async () => {
    const yaml = `version: 1
targets:
  - { name: eu, api: "${api}", account_id: ${eu}, api_token_secret: CF_TOKEN_EU }
  - { name: us, api: "${api}", account_id: ${us}, api_token_secret: CF_TOKEN_US }
rollout: { steps: [100] }
workers:
  - { name: hello, main: hello.js }
`;
    const { d, dir, call, reload } = await start(yaml);
    // Not set yet: the daemon runs, and says what to do.
    const unset = await call<ErrorBody>("GET", "/v1/workers/hello/plan");
    expect(unset.status).toBe(400);
    expect(unset.body.error.message).toMatch(/vault secret CF_TOKEN_(EU|US), which is not set/);

    // Swapped: each account refuses the other's token.
    expect((await call("PUT", "/v1/secrets/CF_TOKEN_EU", { value: tokenUs })).status).toBe(200);
    expect((await call("PUT", "/v1/secrets/CF_TOKEN_US", { value: tokenEu })).status).toBe(200);
    await reload();
    const swapped = await call("GET", "/v1/workers/hello/plan");
    expect(swapped.status).toBeGreaterThanOrEqual(400);
    expect(JSON.stringify(swapped.body)).toMatch(/Authentication error/);

    // Right: the plan reads both accounts, and the setup page checks each token against its account.
    await call("PUT", "/v1/secrets/CF_TOKEN_EU", { value: tokenEu });
    await call("PUT", "/v1/secrets/CF_TOKEN_US", { value: tokenUs });
    await reload();
    const plan = await call<ReleasePlan>("GET", "/v1/workers/hello/plan");
    expect(plan.status).toBe(200);
    expect(plan.body.targets.map((x) => [x.name, x.accountId])).toEqual([
      ["eu", eu],
      ["us", us],
    ]);
    const setup = await call<{ steps: SetupStep[] }>("GET", "/v1/setup");
    const cf = setup.body.steps.find((s) => s.id === "cloudflare");
    expect(cf).toMatchObject({ status: "done" });
    expect(cf?.detail).toContain("vault secret CF_TOKEN_EU");
    expect(cf?.detail).toContain("vault secret CF_TOKEN_US");

    // Each read is on the audit record (as a keyed hash at most); no token in any entry, log line or file beside the data.
    const reads = d.security.audit.search({ action: "secret.read", limit: 1000 }).filter((e) => e.details.purpose === "cloudflare");
    expect(reads.length).toBeGreaterThanOrEqual(4);
    const everything =
      JSON.stringify(d.security.audit.search({ limit: 10_000 })) + logs.join("\n") + readFileSync(join(dir, "orchestrator.yaml"));
    for (const token of [tokenEu, tokenUs]) expect(everything).not.toContain(token);
  });

  it("a token secret is never a Worker's secret, and api_token_secret is refused on a local target", async () => {
    const dir = await makeTempDir("cf-tokens-bad");
    writeFileSync(join(dir, "hello.js"), HELLO);
    const bad = async (yaml: string) => {
      writeFileSync(join(dir, "orchestrator.yaml"), yaml);
      return startDaemon({ dataDir: join(dir, "data"), configFile: join(dir, "orchestrator.yaml"), env: {}, port: 0, log: () => {} }).then(
        () => "started",
        (e: Error) => e.message,
      );
    };
    expect(
      await bad(`version: 1
targets: [{ name: eu, api: "${api}", account_id: ${eu}, api_token_secret: CF_TOKEN_EU }]
workers: [{ name: hello, main: hello.js, secrets: [CF_TOKEN_EU] }]
`),
    ).toMatch(/workers\[0\]\.secrets\[0\]: "CF_TOKEN_EU" holds a target's Cloudflare API token/);
    expect(
      await bad(`version: 1
targets: [{ name: eu, api: local, api_token_secret: CF_TOKEN_EU }]
workers: [{ name: hello, main: hello.js }]
`),
    ).toMatch(/targets\[0\]\.api_token_secret: a target on the local edge uses the edge's token/);
  });

  it("CLOUDFLARE_ACCOUNT_ID is the account of a Cloudflare target without account_id", async () => {
    const yaml = `version: 1
targets:
  - { name: eu, api: "${api}" }
rollout: { steps: [100] }
workers:
  - { name: hello, main: hello.js }
`;
    const { call } = await start(yaml, { CLOUDFLARE_API_TOKEN: tokenEu, CLOUDFLARE_ACCOUNT_ID: eu });
    const targets = await call("GET", "/v1/targets");
    expect(targets.body).toEqual([expect.objectContaining({ name: "eu", accountId: eu })]);
    expect((await call("GET", "/v1/workers/hello/plan")).status).toBe(200);
    const refused = await start(yaml, { CLOUDFLARE_API_TOKEN: tokenEu }).then(
      () => "started",
      (e: Error) => e.message,
    );
    expect(refused).toMatch(/Target "eu" talks to .* but names no account/);
  });

  it("cbo init takes CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID when the flags are absent, and writes no token", async () => {
    const dir = await makeTempDir("cf-init-env");
    const run = await runCbo(
      ["init", "--json", "--yes", "--no-release", "--data", "data", "--config", "orchestrator.yaml", "--api-url", api],
      {
        cwd: dir,
        timeoutMs: 60_000,
        env: { CLOUDFLARE_API_TOKEN: tokenUs, CLOUDFLARE_ACCOUNT_ID: us },
      },
    );
    expect(run.code, run.stderr + run.stdout).toBe(0);
    const done = JSON.parse(run.stdout.trim().split("\n").at(-1)!) as { steps: Array<{ id: string; status: string; detail: string }> };
    expect(done.steps.find((s) => s.id === "cloudflare")).toMatchObject({ status: "done" });
    expect(done.steps.find((s) => s.id === "targets")).toMatchObject({ status: "done" });
    expect(readFileSync(join(dir, "orchestrator.yaml"), "utf8")).toContain(`account_id: ${us}`);
    expect(allText(dir)).not.toContain(tokenUs);
    expect(run.stdout + run.stderr).not.toContain(tokenUs);
  });
});
