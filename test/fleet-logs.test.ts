// Fleet logs end to end: a real daemon on a real three-region local edge keeps tail sessions on a
// Worker whose logs orchestrator.yaml keeps, and ships a redacted copy to an HTTP sink running in
// this test. The Worker logs a planted vault secret, an email, an IP and configured fields:
//   - the shipped copy holds none of them (scanned for the planted values, any email, any IPv4);
//     it carries the sink's header from the vault; lines come from all three targets, labelled;
//   - the local copy (its own SQLite file, 0600) holds the raw line, planted values and all;
//   - the API masks the secret for every reader, and gives a viewer the shipped (redacted) line;
//   - an edit of orchestrator.yaml switches shipping to OTLP, still redacted;
//   - a short retention prunes the local copy.
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Daemon } from "../src/daemon.ts";
import { RAW_LOGS_FILE } from "../src/fleet-logs/index.ts";
import { startDaemonIn } from "./support/daemon-rig.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { eventually, httpGet } from "./support/http.ts";

const REGIONS = ["eu", "us", "ap"];
const PLANTED = `planted-${randomBytes(12).toString("hex")}`;
const SINK_KEY = `sink-key-${randomBytes(12).toString("hex")}`;
const EMAIL = "ann.customer@example.com";
const IP = "198.51.100.23";
const SSN = "078-05-1120";
const USER_ID = "u-90210-user";

const WORKER = `export default {
  async fetch(req, env) {
    const u = new URL(req.url);
    const m = u.searchParams.get("m");
    console.log("marker", m, "the value is", env.PLANTED_TOKEN);
    console.log("signup from ${EMAIL} at ${IP}");
    console.log({ user: { ssn: "${SSN}", plan: "pro" }, nested: [env.PLANTED_TOKEN] });
    if (u.pathname === "/boom") throw new Error("boom " + m + " " + env.PLANTED_TOKEN);
    return new Response("ok " + m);
  },
};
`;

const spec = (sink: string, o: { format?: string; keep?: string } = {}) => `version: 1
targets:
${REGIONS.map((r) => `  - { name: ${r}, api: local }`).join("\n")}
rollout:
  waves: [[eu, us, ap]]
  steps: [100]
  gate: { bake_ms: 100, min_samples: 2, interval_ms: 20 }
workers:
  - name: echo
    main: echo.js
    secrets: [PLANTED_TOKEN]
    agent: false
  - name: unkept
    main: echo.js
    agent: false
logs:
  keep: ${o.keep ?? "1d"}
  workers: [echo]
  ship:
    url: ${sink}?api_key=in-the-url
    format: ${o.format ?? "jsonl"}
    headers: { authorization: SINK_AUTH }
    redact: [event.request.headers.x-user-id, logs.message.user.ssn]
    flush_ms: 50
`;

type Shipped = { headers: IncomingMessage["headers"]; body: string };
type Line = {
  id: number | null;
  target: string;
  worker: string;
  logs: Array<{ message: unknown[] }>;
  verdict: string;
  event: { request?: { headers: Record<string, string> } };
};

describe("fleet logs: raw local copy, redacted shipping", () => {
  let t: TestEdge;
  let dir: string;
  let d: Daemon;
  let token: string;
  let viewer: string;
  let sink: Server;
  let sinkUrl: string;
  const shipped: Shipped[] = [];

  async function api<T>(method: string, path: string, body?: unknown, as = token): Promise<T> {
    const res = await fetch(new URL(path, d.url), {
      method,
      headers: { authorization: `Bearer ${as}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return JSON.parse(text) as T;
  }
  const hit = (region: string, m: string, path = "/") =>
    httpGet(t.edge.regions.find((r) => r.name === region)!.port, "echo.localhost", {
      path: `${path}?m=${m}&email=${encodeURIComponent(EMAIL)}`,
      headers: { "x-user-id": USER_ID, "cf-connecting-ip": IP },
    });
  const shippedText = () => shipped.map((s) => s.body).join("\n");
  const rawRows = () => {
    const db = new DatabaseSync(join(dir, "data", RAW_LOGS_FILE), { readOnly: true });
    try {
      return db.prepare("SELECT id, target, raw FROM lines ORDER BY id").all() as Array<{ id: number; target: string; raw: string }>;
    } finally {
      db.close();
    }
  };
  const streaming = async () =>
    eventually(async () => {
      const s = await api<{ sessions: Array<{ target: string; state: string }> }>("GET", "/v1/logs/status");
      const up = s.sessions
        .filter((x) => x.state === "streaming")
        .map((x) => x.target)
        .sort();
      if (up.join() !== [...REGIONS].sort().join()) throw new Error(`streaming on ${up.join() || "none"}`);
    }, 30_000);

  beforeAll(async () => {
    sink = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        shipped.push({ headers: req.headers, body });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => sink.listen(0, "127.0.0.1", r));
    sinkUrl = `http://127.0.0.1:${(sink.address() as { port: number }).port}/v1/logs`;
    t = await startTestEdge({ regions: REGIONS });
    dir = await makeTempDir("fleet-logs");
    writeFileSync(join(dir, "orchestrator.yaml"), spec(sinkUrl));
    writeFileSync(join(dir, "echo.js"), WORKER);
    d = await startDaemonIn(dir, t.edge, {
      fleetLogs: { reconcileMs: 200, tail: { backoff: { baseMs: 100, maxMs: 500 } }, shipBackoff: { baseMs: 50, maxMs: 200 } },
    });
    token = d.initialAdminToken!;
    viewer = (await api<{ token: string }>("POST", "/v1/tokens", { name: "log-viewer", role: "viewer" })).token;
    await api("PUT", "/v1/secrets/PLANTED_TOKEN", { value: PLANTED, mode: "binding" });
    await api("PUT", "/v1/secrets/SINK_AUTH", { value: `Bearer ${SINK_KEY}`, mode: "relay" });
    const r = await api<{ id: string }>("POST", "/v1/releases", { worker: "echo" });
    expect((await d.engine.wait(r.id)).status).toBe("succeeded");
    await streaming();
  }, 120_000);
  afterAll(async () => {
    await d?.close();
    await t?.dispose();
    await new Promise((r) => sink?.close(r));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("ships a redacted copy of every target's lines: none of the planted values, emails or IPs; the sink's key from the vault", async () => {
    for (const region of REGIONS) {
      await hit(region, `ship-${region}`);
      await hit(region, `boom-${region}`, "/boom");
    }
    const lines = await eventually(async () => {
      const got = shipped.flatMap((s) =>
        s.body
          .trim()
          .split("\n")
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Line),
      );
      const targets = new Set(got.filter((l) => JSON.stringify(l.logs).includes("ship-")).map((l) => l.target));
      if (targets.size < 3) throw new Error(`shipped from ${[...targets].join(",") || "none"}`);
      if (got.filter((l) => l.verdict === "error").length < 3) throw new Error("no errors yet");
      return got;
    }, 20_000);
    for (const region of REGIONS) {
      const l = lines.find((x) => x.target === region && JSON.stringify(x.logs).includes(`ship-${region}`))!;
      expect(l.worker).toBe("echo");
      expect(l.logs[0]!.message).toEqual(["marker", `ship-${region}`, "the value is", "[secret]"]);
      expect(l.logs[1]!.message).toEqual(["signup from [email] at [ip]"]);
      expect(l.logs[2]!.message).toEqual([{ user: { ssn: "[redacted]", plan: "pro" }, nested: ["[secret]"] }]);
      expect(l.event.request!.headers["x-user-id"]).toBe("[redacted]");
    }
    const text = shippedText();
    for (const planted of [PLANTED, EMAIL, IP, SSN, USER_ID, encodeURIComponent(EMAIL), SINK_KEY]) expect(text).not.toContain(planted);
    expect(text).not.toMatch(/[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z]{2,}/);
    expect(text).not.toMatch(/\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b/);
    // The header's value came from the vault; the URL's own query went along as configured.
    expect(shipped.every((s) => s.headers.authorization === `Bearer ${SINK_KEY}`)).toBe(true);
    expect(shipped[0]!.headers["content-type"]).toBe("application/x-ndjson");
  });

  it("keeps the raw line in the local copy (0600), planted values and all", async () => {
    const file = join(dir, "data", RAW_LOGS_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const rows = await eventually(async () => {
      const r = rawRows().filter((x) => x.raw.includes("ship-"));
      if (r.length < 3) throw new Error("not written yet");
      return r;
    });
    expect(new Set(rows.map((r) => r.target))).toEqual(new Set(REGIONS));
    const raw = rows.map((r) => r.raw).join("\n");
    for (const planted of [PLANTED, EMAIL, IP, SSN, USER_ID]) expect(raw).toContain(planted);
    // Exactly what the tail session sent: wrangler's TailEventMessage.
    const one = JSON.parse(rows[0]!.raw) as { scriptName: string; outcome: string; logs: unknown[] };
    expect(one).toMatchObject({ scriptName: "echo", outcome: "ok" });
  });

  it("answers kept lines with the secret masked for every reader, and the shipped redaction for a viewer", async () => {
    const admin = await api<Line[]>("GET", "/v1/logs?worker=echo&search=ship-eu");
    expect(admin.length).toBe(1);
    expect(admin[0]!.id).toBeGreaterThan(0);
    expect(admin[0]!.logs[0]!.message).toEqual(["marker", "ship-eu", "the value is", "[secret]"]);
    expect(JSON.stringify(admin)).toContain(EMAIL);
    expect(JSON.stringify(admin)).not.toContain(PLANTED);
    const errors = await api<Line[]>("GET", "/v1/logs?worker=echo&status=error");
    expect(errors.length).toBeGreaterThanOrEqual(3);
    expect(JSON.stringify(errors)).not.toContain(PLANTED);
    const seen = await api<Line[]>("GET", "/v1/logs?worker=echo", undefined, viewer);
    const text = JSON.stringify(seen);
    for (const planted of [PLANTED, EMAIL, IP, SSN, USER_ID]) expect(text).not.toContain(planted);
    // A viewer's search cannot find what it is not shown.
    expect(await api<Line[]>("GET", `/v1/logs?worker=echo&search=${SSN}`, undefined, viewer)).toEqual([]);
    // A worker whose logs are not kept says so.
    const res = await fetch(new URL("/v1/logs?worker=unkept", d.url), { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe("The logs of unkept are not kept.");
    // Reading the planted value for redaction is on the audit record, once per version.
    const reads = d.security.audit
      .search({ limit: 10_000 })
      .filter((e) => e.action === "secret.read" && e.target?.includes("PLANTED_TOKEN") && JSON.stringify(e.details).includes("redact"));
    expect(reads.length).toBe(1);
  });

  it("follows an edit of orchestrator.yaml: shipping switches to OTLP/HTTP JSON, still redacted", async () => {
    writeFileSync(join(dir, "orchestrator.yaml"), spec(sinkUrl, { format: "otlp" }));
    const before = shipped.length;
    const body = await eventually(async () => {
      await hit("us", "otlp-us");
      const otlp = shipped.slice(before).find((s) => s.body.includes("resourceLogs") && s.body.includes("otlp-us"));
      if (!otlp) throw new Error("no OTLP batch yet");
      return otlp.body;
    }, 20_000);
    const records = JSON.parse(body).resourceLogs[0].scopeLogs[0].logRecords as Array<{
      body: { stringValue: string };
      attributes: unknown[];
    }>;
    const marker = records.find((r) => r.body.stringValue.startsWith("marker otlp-us"))!;
    expect(marker.body.stringValue).toBe("marker otlp-us the value is [secret]");
    expect(marker.attributes).toContainEqual({ key: "cloud.region", value: { stringValue: "us" } });
    for (const planted of [PLANTED, EMAIL, IP, SSN, USER_ID]) expect(body).not.toContain(planted);
  });

  it("prunes the local copy past a short retention", async () => {
    expect(rawRows().length).toBeGreaterThan(0);
    writeFileSync(join(dir, "orchestrator.yaml"), spec(sinkUrl, { format: "otlp", keep: "2s" }));
    await eventually(
      async () => {
        const left = rawRows().length;
        if (left > 0) throw new Error(`${left} lines left`);
      },
      15_000,
      250,
    );
    expect(await api<Line[]>("GET", "/v1/logs?worker=echo")).toEqual([]);
    const status = await api<{ kept: { keepSeconds: number; lines: number } }>("GET", "/v1/logs/status");
    expect(status.kept).toMatchObject({ keepSeconds: 2, lines: 0 });
    // A new line is kept again (until it is 2 s old).
    await hit("ap", "after-prune");
    await eventually(async () => {
      if (!rawRows().some((r) => r.raw.includes("after-prune"))) throw new Error("not kept");
    });
    expect(readFileSync(join(dir, "orchestrator.yaml"), "utf8")).toContain("keep: 2s");
  });
});
