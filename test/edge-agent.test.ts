// The edge agent in real workerd (Miniflare), talking over loopback HTTP to a stand-in for the
// orchestrator's heartbeat and relay endpoints (a small node:http server in this file; the real
// ingest endpoints are the lead's, built on the same protocol module). Three Workers share one
// workerd: `app` (Hono with agent.middleware: config/poke/rollback), `beat` (agent.wrap around a
// Hono app: heartbeat counting and relay) and `plain` (agent.wrap around a plain fetch handler,
// last-known-good start). Each has its own KV
// namespace, per-Worker key and isolate, so their counters do not mix.
import http from "node:http";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { Log, LogLevel, Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AGENT_HEALTH_PATH,
  AGENT_POKE_PATH,
  HEARTBEAT_PATH,
  RELAY_PATH,
  SIGNATURE_HEADER,
  configKvKey,
  createPokeRequest,
  lastKnownGoodKvKey,
  signConfigBundle,
  verifyHeartbeatRequest,
  type Heartbeat,
  type HeartbeatCheck,
} from "../src/kit/protocol/index.ts";
import { RelayRequestSchema, sealRelayResponse, type RelayRequest } from "../src/kit/relay.ts";
import {
  bytesToBase64url,
  createNonceCache,
  exportEd25519PublicKey,
  generateEd25519KeyPair,
  generateHmacKey,
  verifySignature,
  type CryptoKey,
} from "../src/kit/signing/index.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const HOUR = 3_600_000;

// An example-style Hono Worker with the agent mounted; its config must have a `greeting`.
const HONO_WORKER = `
import { Hono } from "hono";
import * as z from "zod";
import { createEdgeAgent } from "./src/edge/index.ts";
const agent = createEdgeAgent({ configSchema: z.object({ greeting: z.string() }).loose(), heartbeatIntervalMs: ${HOUR}, configRefreshMs: ${HOUR} });
const app = new Hono();
app.use(agent.middleware);
app.route("/orchestrator", agent.app);
app.get("/", (c) => { console.log("served", c.req.path); return c.json({ config: c.var.cboConfig ?? null, configVersion: agent.configVersion() }); });
app.get("/fail", (c) => c.text("unavailable", 503));
app.get("/boom", () => { throw new Error("boom"); });
app.get("/secret/:name", async (c) => {
  const value = await agent.secret(c.req.param("name"));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(value)));
  console.log("used relay secret", c.req.param("name"));
  return c.json({ sha256: Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("") });
});
export default { fetch: app.fetch, scheduled: agent.scheduled };
`;

// The same app with the agent wrapped around the Hono app (agent.config() instead of c.var): the
// counting path that adds no promise to a synchronous Hono answer.
const HONO_WRAPPED_WORKER = HONO_WORKER.replace("app.use(agent.middleware);\n", "")
  .replace("c.var.cboConfig ?? null", "agent.config() ?? null")
  .replace("export default { fetch: app.fetch, scheduled: agent.scheduled };", "export default agent.wrap(app);");

const PLAIN_WORKER = `
import { createEdgeAgent } from "./src/edge/index.ts";
const agent = createEdgeAgent({ heartbeatIntervalMs: ${HOUR}, configRefreshMs: ${HOUR} });
export default agent.wrap({
  async fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === "/boom") throw new Error("plain boom");
    if (path === "/fail") return new Response("down", { status: 502 });
    return Response.json({ config: agent.config() ?? null, configVersion: agent.configVersion() });
  },
});
`;

async function bundle(source: string): Promise<string> {
  const out = await build({
    stdin: { contents: source, resolveDir: ROOT, loader: "ts" },
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2024",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["browser", "module", "main"],
    write: false,
    logLevel: "silent",
  });
  return out.outputFiles[0]!.text;
}

// --- the stand-in orchestrator ---------------------------------------------------------------------

const SECRETS: Record<string, { value: string; ttlMs: number }> = {
  API_TOKEN: { value: `relay-value-${crypto.randomUUID()}`, ttlMs: HOUR },
  SHORT_LIVED: { value: `short-value-${crypto.randomUUID()}`, ttlMs: 1_500 },
};
const workerKeys = new Map<string, Uint8Array>();
const heartbeats: Array<HeartbeatCheck & { worker: string }> = [];
const relayCalls: RelayRequest[] = [];
const givenVersion = new Map<string, number>();
const publishOnHeartbeat = new Map<string, { raw: string; version: number }>();
let standIn: http.Server;
let standInUrl: string;

async function answerStandIn(req: http.IncomingMessage, body: string): Promise<{ status: number; json?: unknown }> {
  const header = req.headers[SIGNATURE_HEADER] as string | undefined;
  if (req.method === "POST" && req.url === HEARTBEAT_PATH) {
    const check = await verifyHeartbeatRequest(
      header,
      body,
      ({ worker }) => (workerKeys.has(worker) ? [workerKeys.get(worker)!] : undefined),
      { nonceCache: standInNonces },
    );
    const worker = (JSON.parse(body) as Heartbeat).worker;
    heartbeats.push({ ...check, worker });
    if (!check.ok) return { status: 401 };
    // Like the real ingest endpoint: 202 with the config version this target was last given. A
    // publish queued here lands in KV first, as if its poke had been lost on the way.
    const publish = publishOnHeartbeat.get(worker);
    if (publish) {
      publishOnHeartbeat.delete(worker);
      await (await mf.getKVNamespace("CBO_CONFIG", worker)).put(configKvKey(worker), publish.raw);
      givenVersion.set(worker, publish.version);
    }
    return { status: 202, json: { configVersion: givenVersion.get(worker) ?? null } };
  }
  if (req.method === "POST" && req.url === RELAY_PATH) {
    const parsed = RelayRequestSchema.safeParse(JSON.parse(body));
    const key = parsed.success ? workerKeys.get(parsed.data.worker) : undefined;
    if (!parsed.success || !key) return { status: 400 };
    const check = await verifySignature(header, body, key, { nonceCache: standInNonces, replayScope: "relay" });
    if (!check.ok) return { status: 401 };
    const secret = SECRETS[parsed.data.secret];
    if (!secret) return { status: 404 };
    relayCalls.push(parsed.data);
    const r = { secret: parsed.data.secret, version: parsed.data.version ?? 1, expiresAt: Date.now() + secret.ttlMs };
    return { status: 200, json: await sealRelayResponse(new TextEncoder().encode(secret.value), r, parsed.data, key) };
  }
  return { status: 404 };
}
const standInNonces = createNonceCache();

function startStandIn(): Promise<void> {
  standIn = http.createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8").on("data", (d: string) => (body += d));
    req.on("end", () => {
      answerStandIn(req, body).then(
        ({ status, json }) =>
          res.writeHead(status, json ? { "content-type": "application/json" } : {}).end(json ? JSON.stringify(json) : undefined),
        (e: Error) => res.writeHead(500).end(e.message),
      );
    });
  });
  return new Promise((resolve) => standIn.listen(0, "127.0.0.1", () => resolve()));
}

// --- workerd ---------------------------------------------------------------------------------------

const logLines: string[] = [];
class CapturingLog extends Log {
  constructor() {
    super(LogLevel.DEBUG);
  }
  protected override log(message: string): void {
    logLines.push(message);
  }
}

let mf: Miniflare;
const orchestratorKey = await generateEd25519KeyPair();
const T0 = Date.now();
let issued = 0;

/** A bundle signed by the orchestrator's key, each issued one second after the previous one. */
async function signed(
  worker: string,
  version: number,
  config: Record<string, unknown>,
  over: { rollback?: boolean; key?: CryptoKey } = {},
): Promise<string> {
  const bundle = await signConfigBundle(
    { worker, target: "eu", version, config, rollback: over.rollback ?? false, issuedAt: new Date(T0 + ++issued * 1000).toISOString() },
    over.key ?? orchestratorKey.privateKey,
  );
  return JSON.stringify(bundle);
}

async function call(worker: string, path: string, init?: RequestInit): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await (await mf.getWorker(worker)).fetch(`http://${worker}.test${path}`, init as never);
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text);
  } catch {
    json = { text };
  }
  return { status: res.status, json };
}

/** The agent's health answer (src/edge/health.ts builds it), the parts these tests read. */
type AgentHealth = {
  ok: boolean;
  configVersion: number | null;
  config: { version: number; rollback: boolean; checkedAt: string } | null;
  rejections: { total: number; recent: Array<{ reason: string; version?: number }> };
  requests: { requests: number; errors: number };
  heartbeat: { sent: number; last: unknown } | null;
  relay: { cached: number } | null;
};
const health = async (worker: string) => (await call(worker, AGENT_HEALTH_PATH)).json as AgentHealth;

async function poke(worker: string, configVersion: number, opts: { key?: Uint8Array; now?: number } = {}) {
  const req = await createPokeRequest(
    { worker, target: "eu", configVersion },
    opts.key ?? workerKeys.get(worker)!,
    opts.now === undefined ? {} : { now: () => opts.now! },
  );
  return { req, res: await call(worker, AGENT_POKE_PATH, { method: "POST", headers: req.headers, body: req.body }) };
}

/** Polls until `check` holds (the agent refreshes and heartbeats in waitUntil, after answering). */
async function until<T>(what: string, read: () => Promise<T>, check: (v: T) => boolean): Promise<T> {
  let last: T | undefined;
  for (let i = 0; i < 200; i++) {
    last = await read();
    if (check(last)) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what}: still ${JSON.stringify(last)}`);
}

const kv = (worker: string) => mf.getKVNamespace("CBO_CONFIG", worker);
/** The app's v2 bundle, kept to check the last known good copy and to replay it later. */
let appV2 = "";

beforeAll(async () => {
  await startStandIn();
  standInUrl = `http://127.0.0.1:${(standIn.address() as { port: number }).port}`;
  const publicKey = await exportEd25519PublicKey(orchestratorKey.publicKey);
  const [honoCode, wrappedCode, plainCode] = await Promise.all([bundle(HONO_WORKER), bundle(HONO_WRAPPED_WORKER), bundle(PLAIN_WORKER)]);
  expect(HONO_WRAPPED_WORKER).not.toContain("app.use(");
  const worker = (name: string, code: string) => {
    const key = generateHmacKey();
    workerKeys.set(name, key);
    return {
      config: {
        name,
        compatibilityDate: "2025-09-01",
        manifest: { mainModule: "w.js", modules: { "w.js": { type: "esm" as const, contents: code } } },
        env: {
          CBO_WORKER: { type: "text" as const, value: name },
          CBO_TARGET: { type: "text" as const, value: "eu" },
          CBO_ORCHESTRATOR_URL: { type: "text" as const, value: standInUrl },
          CBO_PUBLIC_KEY: { type: "text" as const, value: publicKey },
          // A secret_text binding in production; Miniflare binds its value the same way as text.
          CBO_WORKER_KEY: { type: "text" as const, value: bytesToBase64url(key) },
          CBO_SECRET_VERSIONS: { type: "json" as const, value: { API_TOKEN: 3 } },
          CBO_VERSION: { type: "version-metadata" as const },
          CBO_CONFIG: { type: "kv" as const, id: `${name}-config` },
        },
      },
    };
  };
  mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    log: new CapturingLog(),
    handleStructuredLogs: (entry) => logLines.push(`[${entry.level}] ${entry.message}`),
    telemetry: { enabled: false },
    enableDevRegistry: false,
    cf: { colo: "LCL", country: "XX" }, // without one Miniflare fetches cf.json from the internet
    workers: [worker("app", honoCode), worker("beat", wrappedCode), worker("plain", plainCode)],
  });
  await mf.ready;
});

afterAll(async () => {
  await mf?.dispose();
  await new Promise((r) => standIn?.close(r));
});

describe("edge agent: signed config", () => {
  it("applies v1 at start and v2 on a signed poke, and keeps the last known good copy in KV", async () => {
    const v1 = await signed("app", 1, { greeting: "hello v1" });
    await (await kv("app")).put(configKvKey("app"), v1);
    expect((await call("app", "/")).json).toEqual({ config: { greeting: "hello v1" }, configVersion: 1 });
    expect(await (await kv("app")).get(lastKnownGoodKvKey("app"))).toBe(v1);

    const v2 = (appV2 = await signed("app", 2, { greeting: "hello v2" }));
    await (await kv("app")).put(configKvKey("app"), v2);
    const { res } = await poke("app", 2);
    expect(res.status).toBe(202);
    await until(
      "app applies v2",
      () => call("app", "/"),
      (r) => r.json.configVersion === 2,
    );
    expect((await call("app", "/")).json.config).toEqual({ greeting: "hello v2" });
    await until(
      "lkg holds v2",
      async () => (await kv("app")).get(lastKnownGoodKvKey("app")),
      (v) => v === v2,
    );
  });

  it("keeps the last good bundle through a bad signature, an older version, garbage and a bad schema, reporting each", async () => {
    const otherKey = (await generateEd25519KeyPair()).privateKey;
    const v1Again = await signed("app", 1, { greeting: "hello v1" });
    const tampered = [
      { raw: await signed("app", 3, { greeting: "forged" }, { key: otherKey }), reason: "bad_signature", version: 3 },
      { raw: v1Again, reason: "older_version", version: 1 },
      { raw: "{not json", reason: "malformed" },
      { raw: await signed("app", 4, { nope: true }), reason: "invalid_config", version: 4 },
    ];
    const beatsBefore = heartbeats.length;
    for (const t of tampered) {
      await (await kv("app")).put(configKvKey("app"), t.raw);
      expect((await poke("app", t.version ?? 3)).res.status).toBe(202);
      await until(
        `${t.reason} reported`,
        () => health("app"),
        (h) => h.rejections.recent.some((r) => r.reason === t.reason),
      );
      expect((await call("app", "/")).json).toEqual({ config: { greeting: "hello v2" }, configVersion: 2 });
    }
    const h = await health("app");
    expect(h.configVersion).toBe(2);
    expect(h.rejections.recent.map((r) => [r.reason, r.version])).toEqual(tampered.map((t) => [t.reason, t.version]));
    // The last known good copy was never overwritten by a refused value.
    expect(await (await kv("app")).get(lastKnownGoodKvKey("app"))).toBe(appV2);

    // Each refusal is reported at once, in a heartbeat sent right after it (signed with the app's
    // key), not at the next interval; together they carry every rejection, in order, once.
    const reported = await until(
      "rejections reported",
      async () => heartbeats.slice(beatsBefore).filter((b) => b.worker === "app"),
      (bs) => bs.flatMap((b) => (b.ok ? b.heartbeat.rejections : [])).length >= tampered.length,
    );
    expect(reported.every((b) => b.ok && b.heartbeat.configVersion === 2)).toBe(true);
    expect(reported.flatMap((b) => (b.ok ? b.heartbeat.rejections.map((r) => [r.reason, r.version]) : []))).toEqual(
      tampered.map((t) => [t.reason, t.version]),
    );
    // The cron heartbeat after them has nothing left to report.
    const before = heartbeats.filter((b) => b.worker === "app").length;
    await (await mf.getWorker("app")).scheduled({ cron: "* * * * *" });
    const beats = await until(
      "cron heartbeat",
      async () => heartbeats.filter((b) => b.worker === "app"),
      (b) => b.length > before,
    );
    const last = beats.at(-1)!;
    expect(last.ok && last.heartbeat.rejections).toEqual([]);
  });

  it("moves back on a signed rollback bundle, then refuses the rolled-away version replayed", async () => {
    const rollback = await signed("app", 1, { greeting: "hello v1 (rolled back)" }, { rollback: true });
    await (await kv("app")).put(configKvKey("app"), rollback);
    expect((await poke("app", 1)).res.status).toBe(202);
    await until(
      "rollback applied",
      () => call("app", "/"),
      (r) => r.json.configVersion === 1,
    );
    expect((await health("app")).config).toMatchObject({ version: 1, rollback: true });

    await (await kv("app")).put(configKvKey("app"), appV2);
    expect((await poke("app", 2)).res.status).toBe(202);
    await until(
      "replayed v2 refused",
      () => health("app"),
      (h) => h.rejections.recent.at(-1)?.reason === "older_version" && h.rejections.recent.at(-1)?.version === 2,
    );
    expect((await call("app", "/")).json.config).toEqual({ greeting: "hello v1 (rolled back)" });
  });

  it("refuses unsigned, wrong-key, stale and replayed pokes with 401, without reading KV", async () => {
    const checkedAt = (await health("app")).config!.checkedAt;
    await (await kv("app")).put(configKvKey("app"), await signed("app", 5, { greeting: "hello v5" }));
    const body = JSON.stringify({ worker: "app", target: "eu", configVersion: 5, nonce: "unsigned-poke" });
    const unsigned = await call("app", AGENT_POKE_PATH, { method: "POST", body });
    expect(unsigned).toMatchObject({ status: 401, json: { error: { code: "ERR_UNAUTHORIZED", details: { reason: "malformed_header" } } } });
    expect((await poke("app", 5, { key: generateHmacKey() })).res).toMatchObject({
      status: 401,
      json: { error: { details: { reason: "no_matching_signature" } } },
    });
    expect((await poke("app", 5, { now: Date.now() - 600_000 })).res).toMatchObject({
      status: 401,
      json: { error: { details: { reason: "timestamp_out_of_tolerance" } } },
    });
    // Refused pokes scheduled nothing: KV was not read and the rollback bundle is still applied.
    expect((await health("app")).config).toMatchObject({ checkedAt, version: 1 });
    expect((await call("app", "/")).json.configVersion).toBe(1);

    const { req, res } = await poke("app", 5);
    expect(res.status).toBe(202);
    const replay = await call("app", AGENT_POKE_PATH, { method: "POST", headers: req.headers, body: req.body });
    expect(replay).toMatchObject({ status: 401, json: { error: { details: { reason: "replayed" } } } });
    await until(
      "v5 applied by the one good poke",
      () => call("app", "/"),
      (r) => r.json.configVersion === 5,
    );
  });

  it("reads an unsigned chunked poke only up to its 1 KiB limit, not a 64 MB body whole (anyone may POST there)", async () => {
    // `app` is the first Worker: Miniflare's own address serves it. The answer may come, or the
    // connection may be cut before it is read (EPIPE on the next write): either way, how much had
    // been sent by then is how much the Worker took.
    const url = new URL((await mf.ready).toString());
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const end = await new Promise<{ status: number | "cut"; text: string; sent: number }>((resolve) => {
      let sent = 0;
      let over = false;
      const req = http.request({ host: url.hostname, port: url.port, path: AGENT_POKE_PATH, method: "POST", agent: false }, (res) => {
        over = true;
        const at = sent;
        let text = "";
        res.setEncoding("utf8").on("data", (d: string) => (text += d));
        res.on("end", () => (req.destroy(), resolve({ status: res.statusCode ?? 0, text, sent: at })));
      });
      req.on("error", () => over || ((over = true), resolve({ status: "cut", text: "", sent })));
      const pump = () => {
        if (over) return;
        if (sent >= 64 * 1024 * 1024) return void req.end();
        sent += chunk.length;
        req.write(chunk, () => setTimeout(pump, 1));
      };
      pump();
    });
    if (end.status !== "cut") expect([end.status, end.text]).toEqual([400, expect.stringMatching(/at most 1024 bytes/)]);
    // A few MB in flight at most; before, the whole body was read into the isolate first.
    expect(end.sent).toBeLessThan(16 * 1024 * 1024);
    expect((await call("app", AGENT_HEALTH_PATH)).status).toBe(200);
  });

  it("a fresh isolate starts from the last known good copy when the current value is tampered", async () => {
    const lkg = await signed("plain", 7, { greeting: "plain v7" });
    await (await kv("plain")).put(lastKnownGoodKvKey("plain"), lkg);
    await (await kv("plain")).put(configKvKey("plain"), JSON.stringify({ payload: "AAAA", signature: "AAAA", keyId: "x" }));
    expect((await call("plain", "/")).json).toEqual({ config: { greeting: "plain v7" }, configVersion: 7 });
    const h = await health("plain");
    expect(h.rejections.recent).toEqual([expect.objectContaining({ reason: "bad_signature" })]);
    expect(h.ok).toBe(true);
  });
});

describe("edge agent: heartbeats, counters, relay secrets", () => {
  it("sends at most one request-driven heartbeat per interval per isolate, then one per cron, with exact signed counters", async () => {
    await (await kv("beat")).put(configKvKey("beat"), await signed("beat", 1, { greeting: "beat" }));
    // The orchestrator publishes v2 while this isolate starts, and its poke never arrives.
    publishOnHeartbeat.set("beat", { raw: await signed("beat", 2, { greeting: "beat v2" }), version: 2 });
    expect((await call("beat", "/")).status).toBe(200);
    const [first] = await until(
      "first heartbeat",
      async () => heartbeats.filter((b) => b.worker === "beat"),
      (b) => b.length === 1,
    );
    expect(first!.ok).toBe(true);
    if (!first!.ok) return;
    const hb1 = first.heartbeat;
    expect(hb1).toMatchObject({
      worker: "beat",
      target: "eu",
      configVersion: 1,
      window: { requests: 0, errors: 0 },
      totals: { requests: 0, errors: 0 },
      rejections: [],
    });
    expect(hb1.versionId).toMatch(/^[0-9a-f-]{36}$/);
    // The heartbeat's answer named v2: the agent re-read KV without a poke.
    await until(
      "v2 applied from the heartbeat's answer",
      () => health("beat"),
      (h) => h.configVersion === 2,
    );

    // 8 more app requests: 5 fine, two 503 answers, one thrown error. The agent's own routes are not counted.
    for (const path of ["/", "/", "/fail", "/", "/boom", "/", "/fail", "/"]) await call("beat", path);
    expect((await health("beat")).requests).toEqual({ requests: 9, errors: 3 });

    await (await mf.getWorker("beat")).scheduled({ cron: "* * * * *" });
    const beats = await until(
      "cron heartbeat",
      async () => heartbeats.filter((b) => b.worker === "beat"),
      (b) => b.length >= 2,
    );
    // Exactly two: the first request's and the cron's; none from the 8 requests in between.
    expect(beats).toHaveLength(2);
    const second = beats[1]!;
    expect(second.ok).toBe(true);
    if (!second.ok) return;
    expect(second.heartbeat).toMatchObject({
      isolate: hb1.isolate,
      versionId: hb1.versionId,
      configVersion: 2,
      window: { requests: 9, errors: 3 },
      totals: { requests: 9, errors: 3 },
    });
    expect(second.heartbeat.window.sinceMs).toBeGreaterThanOrEqual(Date.parse(hb1.sentAt) - 1000);
    expect((await health("beat")).heartbeat).toMatchObject({ sent: 2, last: { ok: true, status: 202 } });
  });

  it("the plain-fetch wrapper counts 5xx and thrown errors and passes the throw on", async () => {
    const before = (await health("plain")).requests;
    expect((await call("plain", "/fail")).status).toBe(502);
    // Miniflare hands a Worker's uncaught exception to the caller: the wrapper re-threw it as is.
    await expect(call("plain", "/boom")).rejects.toThrow("plain boom");
    expect((await call("plain", "/")).status).toBe(200);
    expect((await health("plain")).requests).toEqual({ requests: before.requests + 3, errors: before.errors + 2 });
  });

  it("fetches a relay secret once, pinned to the release's version, serves it from memory until its TTL, then fetches again", async () => {
    const sha = async (v: string) => Buffer.from(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(v))).toString("hex");
    const a = await call("beat", "/secret/API_TOKEN");
    expect(a).toEqual({ status: 200, json: { sha256: await sha(SECRETS.API_TOKEN!.value) } });
    expect((await call("beat", "/secret/API_TOKEN")).json.sha256).toBe(a.json.sha256);
    expect(relayCalls.filter((r) => r.secret === "API_TOKEN")).toEqual([
      expect.objectContaining({ worker: "beat", target: "eu", version: 3, versionId: expect.any(String) }),
    ]);
    expect((await health("beat")).relay).toEqual({ cached: 1 });

    expect((await call("beat", "/secret/SHORT_LIVED")).json.sha256).toBe(await sha(SECRETS.SHORT_LIVED!.value));
    expect((await call("beat", "/secret/SHORT_LIVED")).status).toBe(200);
    expect(relayCalls.filter((r) => r.secret === "SHORT_LIVED")).toHaveLength(1);
    await new Promise((r) => setTimeout(r, SECRETS.SHORT_LIVED!.ttlMs + 200));
    expect((await call("beat", "/secret/SHORT_LIVED")).json.sha256).toBe(await sha(SECRETS.SHORT_LIVED!.value));
    expect(relayCalls.filter((r) => r.secret === "SHORT_LIVED")).toHaveLength(2);
    expect(relayCalls.filter((r) => r.secret === "API_TOKEN")).toHaveLength(1);
  });

  it("no secret value or key is in any log line or health answer", async () => {
    // The capture works: the Workers' own lines and the agent's refusals are in it.
    expect(logLines.some((l) => l.includes("used relay secret API_TOKEN"))).toBe(true);
    expect(logLines.some((l) => l.includes("refused the config bundle"))).toBe(true);
    const healthText = JSON.stringify(await Promise.all(["app", "beat", "plain"].map(health)));
    const forbidden = [...Object.values(SECRETS).map((s) => s.value), ...[...workerKeys.values()].map(bytesToBase64url)];
    for (const f of forbidden) {
      expect(logLines.filter((l) => l.includes(f))).toEqual([]);
      expect(healthText.includes(f)).toBe(false);
    }
  });
});
