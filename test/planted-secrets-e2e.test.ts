// Issue 4's planted-secrets acceptance, over the whole product: a real daemon and a real two-region
// local edge; five secrets with unique values (three `binding`, one of them eu-only, and two
// `relay`), two versions of each, set through the real `cbo` binary from files; a release, a second
// release after new versions, a rollback (both through `cbo`), relay fetches by the real Worker, an
// audit export and a `cbo backup`. Then every daemon log line, every API response the test
// received, every CLI output, the Workers' answers, the orchestrator's SQLite files (with WAL),
// the checkpoint file, the audit export and the backup's bytes are searched for every value, as
// text, base64, base64url and hex: zero occurrences.
//
// The edge's own database is Cloudflare's stand-in: a `binding` secret rests there because the
// operator chose binding (the trust model); `relay` values must never reach it, which is checked,
// and neither do the master key, the admin token or the Cloudflare token.
//
// The daemon's environment also holds CBO_MASTER_KEY and CLOUDFLARE_API_TOKEN while the edge and
// the daemon start (which is when workerd and esbuild are spawned): no child process has any
// planted value in its environment (/proc/<pid>/environ, `ps e`), and none is in `ps` output.
import { createHash, randomBytes } from "node:crypto";
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDaemon, type Daemon } from "../src/daemon.ts";
import { generateKeyFile } from "../src/vault/index.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { descendants, psOutput } from "./support/processes.ts";
import { relayWorkerSource } from "./support/relay-worker.ts";
import { httpGet } from "./support/http.ts";
import { runCbo, type CboRun } from "./support/run-cbo.ts";
import { jurisdictionsFleetYaml } from "./support/orchestrator.ts";

const sha = (v: string) => createHash("sha256").update(v).digest("hex");
const plant = (tag: string) => `pl4nted-${tag}-${randomBytes(12).toString("hex")}`;
const SECRETS = {
  DB_PASSWORD: { mode: "binding", tags: [] as string[], values: [plant("db1"), plant("db2")] },
  STRIPE_KEY: { mode: "binding", tags: [], values: [plant("stripe1"), plant("stripe2")] },
  EU_SIGNING_SEED: { mode: "binding", tags: ["eu"], values: [plant("seed1"), plant("seed2")] },
  WEBHOOK_SECRET: { mode: "relay", tags: [], values: [plant("hook1"), plant("hook2")] },
  OAUTH_CLIENT: { mode: "relay", tags: [], values: [plant("oauth1"), plant("oauth2")] },
} as const;
type Name = keyof typeof SECRETS;
const NAMES = Object.keys(SECRETS) as Name[];
const ALL = NAMES.flatMap((n) =>
  SECRETS[n].values.map((v, i) => ({ label: `${n} v${i + 1}`, value: v, relay: SECRETS[n].mode === "relay" })),
);
const forms = (v: string) => {
  const b = Buffer.from(v);
  return [v, b.toString("base64"), b.toString("base64").replace(/=+$/, ""), b.toString("base64url"), b.toString("hex")];
};
/** Labels (never values) of the planted values found in `haystack`. */
const leaks = (haystack: string | Buffer, only: (s: (typeof ALL)[number]) => boolean = () => true) =>
  ALL.filter(only)
    .filter((s) => forms(s.value).some((f) => haystack.includes(f)))
    .map((s) => s.label);

const WORKER = relayWorkerSource(
  "{ DB_PASSWORD: await sha(env.DB_PASSWORD), STRIPE_KEY: await sha(env.STRIPE_KEY), EU_SIGNING_SEED: await sha(env.EU_SIGNING_SEED) }",
);

const SPEC = jurisdictionsFleetYaml("shop", NAMES);

// Once with text log lines and once with JSON lines (--log-format json): the scan covers both.
describe.each(["text", "json"] as const)(
  "planted secrets (%s logs): release, rollback, relay, audit export and backup leak nothing",
  (logFormat) => {
    let t: TestEdge;
    let dir: string;
    let data: string;
    let keyFile: string;
    let d: Daemon;
    const logs: string[] = [];
    const responses: Array<{ label: string; body: string }> = [];
    const cliRuns: Array<{ label: string; run: CboRun }> = [];
    const seen: Array<{ label: string; body: string }> = [];
    let auditExport = "";
    let archive = "";

    const cbo = async (args: string[]) => {
      const run = await runCbo([...args, "--data", data], { cwd: dir, timeoutMs: 60_000, env: { CBO_MASTER_KEY_FILE: keyFile } });
      cliRuns.push({ label: `cbo ${args.join(" ")}`, run });
      return run;
    };
    const api = async (method: string, path: string): Promise<string> => {
      const res = await fetch(new URL(path, d.url), { method, headers: { authorization: `Bearer ${d.initialAdminToken}` } });
      const body = await res.text();
      responses.push({ label: `${method} ${path} -> ${res.status}`, body });
      return body;
    };
    const worker = async (region: string, path = "/") => {
      const port = t.edge.regions.find((r) => r.name === region)!.port;
      const r = await httpGet(port, "shop.localhost", { path });
      seen.push({ label: `${region}${path} -> ${r.status}`, body: r.body });
      return JSON.parse(r.body) as Record<string, unknown>;
    };
    const setAll = async (v: 0 | 1) => {
      for (const name of NAMES) {
        const s = SECRETS[name];
        const file = join(dir, `value-${name}-${v}`);
        writeFileSync(file, s.values[v], { mode: 0o600 });
        const args = [
          "secrets",
          "set",
          name,
          "--from-file",
          file,
          ...(v === 0 ? ["--mode", s.mode, ...s.tags.flatMap((j) => ["--jurisdiction", j])] : []),
        ];
        const run = await cbo(args);
        expect(run.code, run.stderr).toBe(0);
        rmSync(file);
      }
    };

    /** Secrets of the daemon's own environment while it starts its children. */
    const envPlanted = { CBO_MASTER_KEY: randomBytes(32).toString("base64"), CLOUDFLARE_API_TOKEN: plant("cftoken") };

    beforeAll(async () => {
      Object.assign(process.env, envPlanted);
      try {
        t = await startTestEdge({ regions: ["eu", "us"] });
        dir = await makeTempDir("planted");
        data = join(dir, "data");
        writeFileSync(join(dir, "orchestrator.yaml"), SPEC);
        writeFileSync(join(dir, "shop.js"), WORKER);
        keyFile = join(dir, "master.key");
        generateKeyFile(keyFile);
        d = await startDaemon({
          dataDir: data,
          configFile: join(dir, "orchestrator.yaml"),
          edge: t.edge,
          masterKeyFile: keyFile,
          env: {},
          port: 0,
          monitorIntervalMs: 200,
          auditCheckpointEvery: { entries: 20, ms: 60_000 },
          log: (l) => logs.push(l),
          logFormat,
        });
      } finally {
        // The CLI runs below get a clean environment of their own (one master-key source only).
        for (const k of Object.keys(envPlanted)) delete process.env[k];
      }
    }, 60_000);
    afterAll(async () => {
      await d?.close();
      await t?.dispose();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it("runs the whole flow, each step doing what it claims", async () => {
      await setAll(0);
      expect((await cbo(["release", "shop"])).code).toBe(0);
      expect(await worker("eu")).toEqual({
        DB_PASSWORD: sha(SECRETS.DB_PASSWORD.values[0]),
        STRIPE_KEY: sha(SECRETS.STRIPE_KEY.values[0]),
        EU_SIGNING_SEED: sha(SECRETS.EU_SIGNING_SEED.values[0]),
      });
      expect(await worker("us")).toMatchObject({ EU_SIGNING_SEED: null });
      expect(await worker("us", "/relay?secret=WEBHOOK_SECRET")).toMatchObject({ version: 1, hash: sha(SECRETS.WEBHOOK_SECRET.values[0]) });

      await setAll(1);
      expect((await cbo(["release", "shop"])).code).toBe(0);
      expect(await worker("us")).toMatchObject({ DB_PASSWORD: sha(SECRETS.DB_PASSWORD.values[1]) });
      expect(await worker("eu", "/relay?secret=OAUTH_CLIENT")).toMatchObject({ version: 2, hash: sha(SECRETS.OAUTH_CLIENT.values[1]) });

      // Back to the first release's secret versions: a downgrade, confirmed as such (issue 14).
      const back = await cbo(["rollback", "shop", "--confirm-secret-downgrade"]);
      expect(back.code, back.stderr).toBe(0);
      expect(back.stdout).toContain("secret DB_PASSWORD: v2 -> v1, DOWNGRADE");
      for (const region of ["eu", "us"]) {
        expect(await worker(region)).toMatchObject({
          DB_PASSWORD: sha(SECRETS.DB_PASSWORD.values[0]),
          STRIPE_KEY: sha(SECRETS.STRIPE_KEY.values[0]),
        });
        expect(await worker(region, "/relay?secret=WEBHOOK_SECRET")).toMatchObject({
          version: 1,
          hash: sha(SECRETS.WEBHOOK_SECRET.values[0]),
        });
      }

      for (const args of [
        ["secrets", "list"],
        ["secrets", "versions", "DB_PASSWORD", "--json"],
        ["plan", "shop"],
        ["status"],
        ["audit", "tail", "--json"],
        ["audit", "search", "--action", "secret.read", "--json"],
        ["versions", "shop"],
      ]) {
        const run = await cbo(args);
        expect(run.code, `${args.join(" ")}: ${run.stderr}`).toBe(0);
      }
      for (const path of [
        "/v1/status",
        "/v1/secrets",
        "/v1/workers/shop/plan",
        "/v1/releases",
        "/v1/keys/workers",
        "/v1/audit?limit=1000",
        "/v1/events?limit=1000",
      ])
        await api("GET", path);
      auditExport = await api("GET", "/v1/audit/export");
      archive = join(dir, "backup.cbo");
      const backup = await cbo(["backup", "--out", archive]);
      expect(backup.code, backup.stderr).toBe(0);

      // The scan below has something to look through.
      expect(auditExport.split("\n").filter(Boolean).length).toBeGreaterThan(40);
      expect(statSync(archive).size).toBeGreaterThan(10_000);
      const reads = d.security.audit.search({ action: "secret.read", limit: 1000 });
      expect(reads.filter((e) => e.actor.startsWith("worker:")).length).toBe(4);
      expect(reads.filter((e) => e.actor.startsWith("release:")).length).toBeGreaterThanOrEqual(5);
      expect(cliRuns.length).toBeGreaterThan(15);
    }, 120_000);

    it("no value in any log line, API response, CLI output, Worker answer, audit export or backup", () => {
      expect(logs.length).toBeGreaterThan(5);
      // JSON lines parse one by one, and the access log (with its principal, never a token) is among them.
      if (logFormat === "json") {
        const parsed = logs.map((l) => JSON.parse(l) as Record<string, unknown>);
        expect(parsed.filter((p) => p.msg === "api request" && typeof p.request_id === "string").length).toBeGreaterThan(10);
      }
      const hits: string[] = [];
      for (const l of logs) hits.push(...leaks(l).map((x) => `daemon log: ${x}`));
      for (const r of responses) hits.push(...leaks(r.body).map((x) => `${r.label}: ${x}`));
      for (const c of cliRuns) hits.push(...leaks(c.run.stdout + c.run.stderr).map((x) => `${c.label}: ${x}`));
      for (const s of seen) hits.push(...leaks(s.body).map((x) => `worker ${s.label}: ${x}`));
      hits.push(...leaks(auditExport).map((x) => `audit export: ${x}`));
      hits.push(...leaks(readFileSync(archive)).map((x) => `backup archive: ${x}`));
      expect(hits).toEqual([]);
    });

    it("no value in the orchestrator's files: SQLite (with WAL), checkpoints, keys", () => {
      const hits: string[] = [];
      for (const f of readdirSync(data)) {
        const p = join(data, f);
        if (statSync(p).isFile()) hits.push(...leaks(readFileSync(p)).map((x) => `${f}: ${x}`));
      }
      expect(readdirSync(data)).toEqual(expect.arrayContaining(["orchestrator.sqlite", "audit-checkpoints.jsonl"]));
      expect(hits).toEqual([]);
    });

    it("relay values never reach the edge; binding values rest there only where allowed", () => {
      const edgeFiles = readdirSync(t.dataDir, { recursive: true })
        .map(String)
        .filter((f) => statSync(join(t.dataDir, f)).isFile());
      expect(edgeFiles).toEqual(expect.arrayContaining(["edge.sqlite", "token"]));
      const bytes = Buffer.concat(edgeFiles.map((f) => readFileSync(join(t.dataDir, f))));
      expect(leaks(bytes, (s) => s.relay)).toEqual([]);
      // The binding values are there (the scan can find what it looks for).
      expect(leaks(bytes, (s) => !s.relay).length).toBeGreaterThan(0);
      // Nothing of the orchestrator's own keys and tokens rests at Cloudflare's stand-in.
      const own = { "master key file": readFileSync(keyFile, "utf8").trim(), "admin token": d.initialAdminToken!, ...envPlanted };
      expect(
        Object.entries(own)
          .filter(([, v]) => forms(v).some((f) => bytes.includes(f)))
          .map(([k]) => k),
      ).toEqual([]);
    });

    it("no planted value in a child process's environment (workerd, esbuild) or in ps output", () => {
      const kids = descendants(process.pid);
      // The children the scan is about are there: one workerd per region and esbuild's service.
      expect(kids.filter((k) => /workerd/.test(k.command)).length).toBeGreaterThanOrEqual(2);
      expect(kids.some((k) => /esbuild/.test(k.command))).toBe(true);
      const own = { "master key file": readFileSync(keyFile, "utf8").trim(), "admin token": d.initialAdminToken!, ...envPlanted };
      const ownLeaks = (text: string) =>
        Object.entries(own)
          .filter(([, v]) => forms(v).some((f) => text.includes(f)))
          .map(([k]) => k);
      const hits: string[] = [];
      for (const k of kids)
        hits.push(
          ...[...leaks(k.environ), ...ownLeaks(k.environ)].map((x) => `${x} in the environment of ${k.pid} ${k.command.slice(0, 80)}`),
        );
      const ps = psOutput(kids.map((k) => k.pid));
      expect(ps).toContain("workerd");
      hits.push(...[...leaks(ps), ...ownLeaks(ps)].map((x) => `${x} in ps output`));
      expect(hits).toEqual([]);
    });
  },
);
