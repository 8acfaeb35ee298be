// Issue 16's trace acceptance, with an in-process OTLP/HTTP receiver (a node:http server in this
// test collecting what the daemon exports): one `cbo release` (the real CLI, a child process)
// against a real daemon on a real local edge running the example fleet's Workers (examples/: the
// ads-api wrangler project with the real edge agent mounted, behind it ads-attribution) produces ONE trace
// with spans for the API request, the release, each wave and step, each Cloudflare call and each
// gate probe; the Worker's heartbeat carries the same trace id back (the agent continues the gate
// probe's trace, and its heartbeat request continues the agent's span); the audit entry of the
// release holds the trace id; and the daemon's JSON log lines parse one by one and carry the
// request and trace ids.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Daemon } from "../src/daemon.ts";
import { startDaemonIn } from "./support/daemon-rig.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { writeExampleProject } from "./support/example-project.ts";
import { runCbo } from "./support/run-cbo.ts";

// The example fleet's wrangler projects (ads-api: Hono with the real edge agent mounted, its D1
// sites, rate limiter, queue, bucket and assets; ads-attribution behind its service binding), in
// a project of their own as a user has them.
const SPEC = `version: 1
targets:
  - { name: eu, api: local, jurisdiction: eu }
  - { name: us, api: local, jurisdiction: us }
rollout:
  waves: [[eu], [us]]
  steps: [50, 100]
  gate: { probe_path: /health, bake_ms: 200, min_samples: 2, interval_ms: 50 }
workers:
  - wrangler: ads-attribution/wrangler.jsonc
  - wrangler: ads-api/wrangler.jsonc
    secrets: [SHOPIFY_WEBHOOK_SECRET]
    config:
      values: { currency: USD, tracking: { enabled: true, campaigns: [spring-sale] }, motd: traced }
`;

type OtlpSpan = {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Array<{ key: string; value: Record<string, unknown> }>;
  service: string;
};

describe("one cbo release is one trace, from the CLI to the Worker and back", () => {
  let t: TestEdge;
  let dir: string;
  let d: Daemon;
  let receiver: http.Server;
  const spans: OtlpSpan[] = [];
  const logs: string[] = [];
  let received = 0;

  beforeAll(async () => {
    receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        expect(req.url).toBe("/v1/traces");
        expect(req.headers["content-type"]).toBe("application/json");
        received++;
        const doc = JSON.parse(Buffer.concat(chunks).toString()) as {
          resourceSpans: Array<{
            resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> };
            scopeSpans: Array<{ spans: Omit<OtlpSpan, "service">[] }>;
          }>;
        };
        for (const rs of doc.resourceSpans) {
          const service = rs.resource.attributes.find((a) => a.key === "service.name")?.value.stringValue ?? "";
          for (const ss of rs.scopeSpans) for (const s of ss.spans) spans.push({ ...s, service });
        }
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
    t = await startTestEdge({ regions: ["eu", "us"] });
    dir = await makeTempDir("traces");
    writeExampleProject(dir, ["ads-api", "ads-attribution"]);
    writeFileSync(join(dir, "orchestrator.yaml"), SPEC);
    d = await startDaemonIn(dir, t.edge, {
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`,
        OTEL_BSP_SCHEDULE_DELAY: "50",
      },
      // No background passes during the test: every Cloudflare call is the release's.
      monitorIntervalMs: 3_600_000,
      log: (l) => logs.push(l),
      logFormat: "json",
    });
    d.security.vault.put("SHOPIFY_WEBHOOK_SECRET", "whsec-test-0123456789", { mode: "relay", by: "test" });
    // The Worker behind the service binding goes first (untraced: not through the API).
    const first = await d.engine.release("ads-attribution", { by: "test" });
    expect((await d.engine.wait(first.id)).status).toBe("succeeded");
  }, 120_000);
  afterAll(async () => {
    await d?.close();
    await t?.dispose();
    await new Promise((r) => receiver?.close(r));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("exports the whole release as one trace, the Worker's heartbeat carries it back, and the audit entry holds it", async () => {
    const cfBefore = cloudflareCalls(d);
    const run = await runCbo(["release", "ads-api", "--url", d.url, "--token", d.initialAdminToken!], { cwd: dir, timeoutMs: 90_000 });
    expect(run.code, run.stderr).toBe(0);
    const cfCalls = cloudflareCalls(d) - cfBefore;

    // The API request's server span: the root of the daemon's part of the trace.
    await until(() => spans.some((s) => s.name === "POST /v1/releases"));
    const root = spans.find((s) => s.name === "POST /v1/releases")!;
    const trace = root.traceId;
    const inTrace = () => spans.filter((s) => s.traceId === trace);
    // The heartbeat of the new version's isolate continues the trace the gate probes brought it.
    await until(() => inTrace().some((s) => s.name === "POST /v1/agent/heartbeat"));
    await d.telemetry.tracer.flush();
    const mine = inTrace();
    const named = (n: string) => mine.filter((s) => s.name === n);
    expect(root.kind).toBe(2); // server
    expect(named("release")).toHaveLength(1);
    expect(named("release.wave")).toHaveLength(2);
    // A step span per step the release made (a first deploy serves at 100% at once: one step a target).
    const releaseEvents = d.store.events.list({ limit: 1000 }).filter((e) => e.worker === "ads-api");
    expect(named("release.step")).toHaveLength(releaseEvents.filter((e) => e.type === "release.step.started").length);
    expect(named("release.step").length).toBeGreaterThanOrEqual(2);
    // Every Cloudflare call of the release, each its own span (the daemon counted them too).
    expect(mine.filter((s) => s.name.startsWith("cloudflare ")).length).toBe(cfCalls);
    expect(cfCalls).toBeGreaterThan(4);
    // Every gate probe: as many spans as the steps' samples.
    const events = releaseEvents.filter((e) => e.type === "release.step.passed");
    const samples = events.reduce((n, e) => n + Number((e.data as { samples: number }).samples), 0);
    expect(named("gate.probe")).toHaveLength(samples);
    // One tree: every span's parent is in the trace, except the command's requests (children of
    // the CLI's own span: the release, the event catch-up, the final read) and the heartbeats
    // (children of the agent's spans, which come with a later heartbeat: next test).
    const ids = new Set(mine.map((s) => s.spanId));
    const orphans = mine.filter((s) => s.parentSpanId && !ids.has(s.parentSpanId));
    for (const o of orphans) if (o.name !== "POST /v1/agent/heartbeat") expect(o.parentSpanId, o.name).toBe(root.parentSpanId);
    expect(orphans.filter((s) => s.name === "POST /v1/releases")).toHaveLength(1);
    expect(orphans.some((s) => s.name === "GET /v1/releases/:id")).toBe(true);
    // Steps are children of waves, probes of steps, waves of the release.
    const byId = new Map(mine.map((s) => [s.spanId, s]));
    for (const s of named("release.step")) expect(byId.get(s.parentSpanId!)?.name).toBe("release.wave");
    for (const s of named("release.wave")) expect(byId.get(s.parentSpanId!)?.name).toBe("release");
    for (const s of named("gate.probe")) expect(byId.get(s.parentSpanId!)?.name).toBe("release.step");
    // The heartbeat came back in this trace, as a child of the agent's span of a gate probe.
    const beat = named("POST /v1/agent/heartbeat")[0]!;
    expect(beat.parentSpanId).toBeDefined();
    expect(byId.has(beat.parentSpanId!)).toBe(false); // the agent's span: sent in a later heartbeat
    // The audit entry of the release holds the trace id.
    const created = d.security.audit.search({ action: "release.create" });
    expect(created.length).toBeGreaterThan(0);
    for (const e of created) expect(e.details.trace_id).toBe(trace);
    const ended = d.security.audit.search({ action: "release.succeeded" }).find((e) => e.details.worker === "ads-api");
    expect(ended?.details.trace_id).toBe(trace);
    expect(received).toBeGreaterThan(0);
  }, 120_000);

  it("the agents' own spans arrive with a later heartbeat, under the edge agent's service, children of the probes", async () => {
    // A config publish pokes the agents, which then report at once: their spans ride along.
    const run = await runCbo(["config", "publish", "ads-api", "--url", d.url, "--token", d.initialAdminToken!], {
      cwd: dir,
      timeoutMs: 60_000,
    });
    expect(run.code, run.stderr).toBe(0);
    await until(() => spans.some((s) => s.service.endsWith("-edge-agent") && s.name === "edge.request"));
    const probes = new Map(spans.filter((s) => s.name === "gate.probe").map((s) => [s.spanId, s]));
    const edge = spans.filter((s) => s.service.endsWith("-edge-agent") && s.name === "edge.request");
    expect(edge.length).toBeGreaterThan(0);
    for (const s of edge) expect(probes.get(s.parentSpanId!)?.traceId).toBe(s.traceId);
    // The publish is a trace of its own: its request, the publish, a poke per target, and the agents' spans of the pokes.
    const publish = spans.find((s) => s.name === "config.publish")!;
    const pokes = spans.filter((s) => s.name === "config.poke" && s.traceId === publish.traceId);
    expect(pokes).toHaveLength(2);
    await until(() => spans.some((s) => s.name === "edge.agent" && s.traceId === publish.traceId));
  }, 120_000);

  it("writes JSON log lines that parse one by one and carry request and trace ids", () => {
    expect(logs.length).toBeGreaterThan(0);
    const parsed = logs.map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const p of parsed) {
      expect(typeof p.time).toBe("string");
      expect(["debug", "info", "warn", "error"]).toContain(p.level);
      expect(typeof p.msg).toBe("string");
    }
    const access = parsed.find((p) => p.msg === "api request" && p.route === "/v1/releases" && p.method === "POST")!;
    const root = spans.find((s) => s.name === "POST /v1/releases")!;
    expect(access).toMatchObject({ status: 202, principal: "initial admin", trace_id: root.traceId });
    expect(access.request_id).toMatch(/^[0-9a-f]{16}$/);
    // A line logged inside the release (the engine's) carries the release's trace.
    expect(parsed.some((p) => p.trace_id === root.traceId && typeof p.msg === "string" && p.msg.includes("succeeded"))).toBe(true);
    // Never a token: the admin token does not appear in any line.
    expect(logs.join("\n")).not.toContain(d.initialAdminToken!);
  });
});

function cloudflareCalls(d: Daemon): number {
  const text = d.telemetry.metrics.registry.render();
  return text
    .split("\n")
    .filter((l) => l.startsWith("cbo_cloudflare_requests_total{"))
    .reduce((n, l) => n + Number(l.split(" ").at(-1)), 0);
}

async function until(ok: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 50));
  }
}
