// Issue 16's /metrics acceptance, on a real daemon and a real local edge: GET /metrics parses with a
// strict Prometheus text-format parser; after one release, one rollback and one refused heartbeat
// the matching counters moved by exactly those amounts; a caller without the right token is
// refused, and a `metrics` token reads /metrics and nothing else.
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Daemon } from "../src/daemon.ts";
import { HEARTBEAT_PATH, SIGNATURE_HEADER } from "../src/kit/protocol/index.ts";
import { startDaemonIn } from "./support/daemon-rig.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { parsePrometheusText, valueOf, type MetricFamily } from "./support/prometheus-text.ts";

const SPEC = `version: 1
targets:
  - { name: eu, api: local }
rollout:
  steps: [50, 100]
  gate: { bake_ms: 100, min_samples: 2, interval_ms: 20 }
workers:
  - { name: shop, main: shop.js }
`;
const worker = (n: number) => `export default { fetch: () => new Response("v${n}") };\n`;

describe("GET /metrics", () => {
  let t: TestEdge;
  let dir: string;
  let d: Daemon;
  let admin: string;
  let metricsToken: string;

  const call = async (path: string, token?: string, init: RequestInit = {}) =>
    fetch(new URL(path, d.url), { ...init, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...init.headers } });
  const scrape = async (): Promise<Map<string, MetricFamily>> => {
    const res = await call("/metrics", metricsToken);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    return parsePrometheusText(await res.text());
  };
  const release = async () => {
    writeFileSync(join(dir, "shop.js"), worker(Math.random()));
    const res = await call("/v1/releases", admin, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ worker: "shop" }),
    });
    expect(res.status).toBe(202);
    return d.engine.wait(((await res.json()) as { id: string }).id);
  };

  beforeAll(async () => {
    t = await startTestEdge({ regions: ["eu"] });
    dir = await makeTempDir("metrics");
    writeFileSync(join(dir, "orchestrator.yaml"), SPEC);
    d = await startDaemonIn(dir, t.edge);
    admin = d.initialAdminToken!;
    const created = await call("/v1/tokens", admin, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "prometheus", role: "metrics" }),
    });
    expect(created.status).toBe(200);
    metricsToken = ((await created.json()) as { token: string }).token;
    expect((await release()).status).toBe("succeeded");
  }, 60_000);
  afterAll(async () => {
    await d?.close();
    await t?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("refuses callers without the right token; a metrics token reads /metrics only", async () => {
    expect((await call("/metrics")).status).toBe(401);
    expect((await call("/metrics", "cbo_viewer_not-a-real-token-at-all")).status).toBe(401);
    expect((await call("/v1/status", metricsToken)).status).toBe(403);
    expect((await call("/v1/events", metricsToken)).status).toBe(403);
    expect((await call("/metrics", admin)).status).toBe(200);
    expect((await call("/metrics", metricsToken)).status).toBe(200);
  });

  it("after a release, a rollback and a refused heartbeat the counters moved by exactly those amounts", async () => {
    const before = await scrape();
    const sum = (m: Map<string, MetricFamily>, name: string, labels: Record<string, string> = {}) =>
      [...m.values()]
        .flatMap((f) => f.samples)
        .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
        .reduce((n, s) => n + s.value, 0);

    const r = await release();
    expect(r.status).toBe("succeeded");
    const back = await call("/v1/workers/shop/rollback", admin, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(back.status).toBe(202);
    expect((await d.engine.wait(((await back.json()) as { id: string }).id)).status).toBe("succeeded");
    const beat = JSON.stringify({
      worker: "shop",
      target: "eu",
      versionId: null,
      configVersion: null,
      isolate: "i-1",
      sentAt: new Date().toISOString(),
      uptimeMs: 1,
      totals: { requests: 0, errors: 0 },
      window: { sinceMs: 0, requests: 0, errors: 0 },
      rejections: [],
    });
    const refused = await call(HEARTBEAT_PATH, undefined, {
      method: "POST",
      headers: { "content-type": "application/json", [SIGNATURE_HEADER]: `t=${Math.floor(Date.now() / 1000)},v1=${"0".repeat(64)}` },
      body: beat,
    });
    expect(refused.status).toBe(401);

    // One health pass now: each probe's latency is observed by worker and target.
    expect((await call("/v1/health/workers?fresh=1", admin)).status).toBe(200);
    const after = await scrape();
    const delta = (name: string, labels: Record<string, string> = {}) => sum(after, name, labels) - sum(before, name, labels);
    expect(delta("cbo_releases_total", { worker: "shop", outcome: "succeeded" })).toBe(1);
    expect(delta("cbo_releases_total")).toBe(1);
    expect(delta("cbo_rollbacks_total", { worker: "shop", kind: "manual" })).toBe(1);
    expect(delta("cbo_rollbacks_total")).toBe(1);
    expect(delta("cbo_heartbeats_refused_total")).toBe(1);
    // shop runs no agent: there is no key its heartbeat could be signed with.
    expect(delta("cbo_heartbeats_refused_total", { reason: "unknown_worker" })).toBe(1);
    // Two steps, each gated once and passed; both durations observed.
    expect(delta("cbo_gate_verdicts_total", { worker: "shop", target: "eu", verdict: "pass" })).toBe(2);
    expect(delta("cbo_gate_verdicts_total", { verdict: "fail" })).toBe(0);
    expect(delta("cbo_release_step_duration_seconds_count", { worker: "shop", target: "eu" })).toBe(2);
    // The release and the rollback talked to the edge: counted by endpoint class and status.
    expect(delta("cbo_cloudflare_requests_total", { endpoint: "workers.deployments.create", status: "200" })).toBeGreaterThanOrEqual(3);
    expect(delta("cbo_cloudflare_requests_total", { endpoint: "workers.versions.create" })).toBe(1);
    expect(delta("cbo_audit_appends_total")).toBeGreaterThan(0);
    expect(valueOf(after, "cbo_audit_append_failures_total")).toBe(0);
    expect(valueOf(after, "cbo_cloudflare_budget_remaining", { account: t.edge.regions[0]!.accountId })).toBeGreaterThan(0);
    expect(valueOf(after, "cbo_audit_checkpoint_age_seconds")).not.toBe(0);
    expect(valueOf(after, "cbo_build_info", { version: "0.1.0" })).toBe(1);
    expect(delta("cbo_worker_probe_duration_seconds_count", { worker: "shop", target: "eu" })).toBe(1);
    expect(valueOf(after, "cbo_http_requests_total", { method: "POST", route: "/v1/releases", status: "202" })).toBeGreaterThanOrEqual(2);
    expect(valueOf(after, "cbo_tunnel_state", { state: "disabled" }) + valueOf(after, "cbo_tunnel_state", { state: "not-installed" })).toBe(
      1,
    );
  }, 60_000);
});
