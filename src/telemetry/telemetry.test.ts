import { describe, expect, it } from "vitest";
import { formatTraceparent, parseTraceparent } from "../kit/trace-context.ts";
import { parsePrometheusText, valueOf } from "../../test/support/prometheus-text.ts";
import { createCboMetrics } from "./catalog.ts";
import { currentTraceparent } from "./context.ts";
import { createLogger } from "./logger.ts";
import { createRedactor } from "./redact.ts";
import { createRegistry } from "./registry.ts";
import type { FinishedSpan } from "./span.ts";
import { createTracer, samplerFromEnv, span, startSpan } from "./tracer.ts";

describe("traceparent", () => {
  it("reads valid headers and refuses what the spec says to ignore", () => {
    const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    expect(parseTraceparent(tp)).toEqual({ traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", sampled: true });
    expect(formatTraceparent(parseTraceparent(tp)!)).toBe(tp);
    expect(parseTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-later")?.sampled).toBe(false);
    for (const bad of [
      "",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
    ])
      expect(parseTraceparent(bad), bad).toBeUndefined();
  });
});

describe("tracer", () => {
  it("continues an incoming trace, makes children of the active span, and records them only with an exporter", async () => {
    const spans: FinishedSpan[] = [];
    const tracer = createTracer({ exporter: { export: (s) => void spans.push(s), flush: async () => {}, close: async () => {} } });
    const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let inner: string | undefined;
    await tracer.root("request", { parent, kind: "server" }, async () => {
      await span("child", { a: 1 }, async () => {
        inner = currentTraceparent();
        const manual = startSpan("manual");
        manual.within(() => span("grandchild", undefined, () => 1));
        manual.fail("ERR_X: boom");
        manual.end();
      });
    });
    expect(inner).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
    const byName = Object.fromEntries(spans.map((s) => [s.name, s]));
    expect(Object.keys(byName).sort()).toEqual(["child", "grandchild", "manual", "request"]);
    expect(byName.request!.parentSpanId).toBe("00f067aa0ba902b7");
    expect(byName.child!.parentSpanId).toBe(byName.request!.spanId);
    expect(byName.manual!.parentSpanId).toBe(byName.child!.spanId);
    expect(byName.grandchild!.parentSpanId).toBe(byName.manual!.spanId);
    expect(byName.manual!.error).toBe("ERR_X: boom");
    expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set(["4bf92f3577b34da6a3ce929d0e0e4736"]));
    // Outside any trace: no span, no header.
    expect(span("x", {}, () => currentTraceparent())).toBeUndefined();
  });

  it("keeps ids but records nothing without an exporter, or for a parent that is not sampled", () => {
    const spans: FinishedSpan[] = [];
    const exporter = { export: (s: FinishedSpan) => void spans.push(s), flush: async () => {}, close: async () => {} };
    const off = createTracer();
    expect(off.root("r", {}, () => currentTraceparent())).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const on = createTracer({ exporter });
    on.root("r", { parent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00" }, () => span("c", {}, () => 1));
    expect(spans).toEqual([]);
    const disabled = createTracer({ exporter, enabled: false });
    expect(disabled.root("r", {}, () => currentTraceparent())).toBeUndefined();
    expect(samplerFromEnv({ OTEL_TRACES_SAMPLER: "always_off" }).root("4bf92f3577b34da6a3ce929d0e0e4736")).toBe(false);
    const half = samplerFromEnv({ OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.5" });
    expect(half.root("00000000000000000000000000000001")).toBe(true);
    expect(half.root("0000000000000000000fffffffffffff")).toBe(false);
  });
});

describe("logger", () => {
  it("writes JSON lines with level, time, msg, fields and the trace ids of its context; drops lines below its level", () => {
    const lines: string[] = [];
    const log = createLogger({ sink: (l) => lines.push(l), format: "json", level: "info", now: () => 0 });
    log.debug("hidden");
    log.child({ component: "api" }).info("hello", { n: 1, ok: true, none: null });
    createTracer().root("r", { requestId: "req-1" }, () => log.warn("inside"));
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[0]!)).toEqual({
      time: "1970-01-01T00:00:00.000Z",
      level: "info",
      msg: "hello",
      component: "api",
      n: 1,
      ok: true,
      none: null,
    });
    expect(JSON.parse(lines[1]!)).toMatchObject({
      level: "warn",
      msg: "inside",
      request_id: "req-1",
      trace_id: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
  });

  it("keeps text lines as they were, fields as key=value", () => {
    const lines: string[] = [];
    const log = createLogger({ sink: (l) => lines.push(l) });
    log.info("drift api@eu: resolved", { route: "/v1/x", note: "two words" });
    expect(lines).toEqual(['drift api@eu: resolved route=/v1/x note="two words"']);
  });

  it("hands the sink each line's level and bare message, so that a sink can route lines (cbo up's terminal)", () => {
    const entries: unknown[] = [];
    const log = createLogger({ sink: (_l, entry) => entries.push(entry), level: "info" });
    log.debug("hidden");
    log.info("api request", { route: "/v1/x" });
    log.child({ component: "tunnel" }).warn("down");
    expect(entries).toEqual([
      { level: "info", msg: "api request" },
      { level: "warn", msg: "down" },
    ]);
  });

  it("masks token shapes, bearer credentials, opaque keys and registered values, in any of their spellings", () => {
    const lines: string[] = [];
    const redactor = createRedactor();
    const secret = "pl4nted-value-0123456789";
    redactor.register(secret);
    const log = createLogger({ sink: (l) => lines.push(l), format: "json", redactor });
    const key = Buffer.alloc(32, 7).toString("base64url").replace(/^./, "Q") + "x9Z";
    log.error(
      `leak ${secret} ${Buffer.from(secret).toString("base64")} ${Buffer.from(secret).toString("hex")} cbo_admin_AbCdEfGhIjKlMnOpQrStUvWx Bearer abc.def ${key}`,
      { hash: "ab".repeat(32) },
    );
    const out = lines[0]!;
    expect(out).not.toContain(secret);
    expect(out).not.toContain(Buffer.from(secret).toString("base64"));
    expect(out).not.toContain(Buffer.from(secret).toString("hex"));
    expect(out).not.toContain("AbCdEfGhIjKlMnOpQrStUvWx");
    expect(out).not.toContain("abc.def");
    expect(out).not.toContain(key);
    expect(out).toContain("cbo_admin_[redacted]");
    // Hex hashes stay readable.
    expect(out).toContain("ab".repeat(32));
  });
});

describe("metrics registry", () => {
  it("renders counters, gauges and histograms in the 0.0.4 text format that a strict parser reads back", () => {
    const m = createCboMetrics(createRegistry());
    m.releases.inc({ worker: "api", outcome: "succeeded" });
    m.releases.inc({ worker: "api", outcome: "succeeded" }, 2);
    m.auditAppends.inc();
    m.relayRefusals.inc({ reason: 'a "quoted"\\ reason\nwith a newline' });
    m.stepDuration.observe({ worker: "api", target: "eu" }, 0.7);
    m.stepDuration.observe({ worker: "api", target: "eu" }, 4000);
    m.wsClients.set(3);
    let collected = 0;
    m.registry.collect(() => m.checkpointAge.set(++collected));
    const parsed = parsePrometheusText(m.registry.render());
    expect(valueOf(parsed, "cbo_releases_total", { worker: "api", outcome: "succeeded" })).toBe(3);
    expect(valueOf(parsed, "cbo_audit_appends_total")).toBe(1);
    expect(valueOf(parsed, "cbo_relay_refusals_total", { reason: 'a "quoted"\\ reason\nwith a newline' })).toBe(1);
    expect(valueOf(parsed, "cbo_release_step_duration_seconds_count", { worker: "api", target: "eu" })).toBe(2);
    expect(valueOf(parsed, "cbo_release_step_duration_seconds_bucket", { worker: "api", target: "eu", le: "1" })).toBe(1);
    expect(valueOf(parsed, "cbo_release_step_duration_seconds_bucket", { worker: "api", target: "eu", le: "+Inf" })).toBe(2);
    expect(valueOf(parsed, "cbo_websocket_clients")).toBe(3);
    expect(valueOf(parsed, "cbo_audit_checkpoint_age_seconds")).toBe(1);
    expect(parsed.get("cbo_releases_total")?.type).toBe("counter");
  });

  it("bounds each metric's label sets", () => {
    const r = createRegistry({ maxSeries: 2 });
    const c = r.counter("x_total", "x", ["k"]);
    for (const k of ["a", "b", "c", "d"]) c.inc({ k });
    const parsed = parsePrometheusText(r.render());
    expect(parsed.get("x_total")!.samples).toHaveLength(2);
    expect(valueOf(parsed, "cbo_metrics_series_dropped_total")).toBe(2);
  });
});

describe("OTLP exporter", () => {
  it("counts and drops spans while the endpoint does not answer, saying so once, and never logs its headers", async () => {
    const { createOtlpExporter } = await import("./otlp-exporter.ts");
    const lines: string[] = [];
    let dropped = 0;
    const exporter = createOtlpExporter({
      url: "http://127.0.0.1:9/v1/traces",
      headers: { authorization: "Bearer otlp-credential-0123456789" },
      serviceName: "svc",
      resource: {},
      delayMs: 10_000,
      maxBatch: 2,
      maxQueue: 3,
      timeoutMs: 2_000,
      log: createLogger({ sink: (l) => lines.push(l) }),
      counted: { exported: () => {}, dropped: (n) => void (dropped += n) },
    });
    const span = (i: number): FinishedSpan => ({
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      spanId: `00f067aa0ba902b${i}`,
      name: "x",
      kind: "internal",
      startMs: 0,
      endMs: 1,
      attributes: {},
    });
    for (let i = 0; i < 5; i++) exporter.export(span(i));
    await exporter.flush();
    // maxBatch 2 sends early; the queue holds 3 at most; everything that was not delivered is counted.
    expect(dropped).toBe(5);
    expect(lines.filter((l) => l.includes("export to"))).toHaveLength(1);
    expect(lines.join("\n")).not.toContain("otlp-credential");
  });
});
