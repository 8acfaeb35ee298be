// bindingsMetadata against the shapes of CLOUDFLARE-API-FLEET §7 (wrangler's
// createWorkerUploadForm), key by key and in wrangler's order; test/wrangler-client-conformance
// compares the same function with what real wrangler writes for a wrangler file.
import { describe, expect, it } from "vitest";
import type { Resource, WorkerBinding } from "../config/source/model.ts";
import { CboError } from "../kit/errors.ts";
import { bindingsMetadata } from "./bindings-metadata.ts";
import { assetsConfigMetadata, placementMetadata, uploadSettingsFromSource } from "./metadata-from-source.ts";
import { workerConsumerBody } from "./queues.ts";

const res = (kind: Resource["kind"], name: string, more: Partial<Resource> = {}): Resource => ({
  kind,
  name,
  nameFrom: "wrangler",
  ...more,
});

const EVERY: WorkerBinding[] = [
  { kind: "assets", binding: "ASSETS" },
  { kind: "version_metadata", binding: "VM" },
  { kind: "ai", binding: "AI", staging: true },
  { kind: "analytics_engine", binding: "AE", dataset: "events" },
  { kind: "service", binding: "SVC", service: "billing", entrypoint: "Admin", environment: "production", props: { tier: 1 } },
  { kind: "ratelimit", binding: "RL", namespaceId: "1001", simple: { limit: 100, period: 60 } },
  { kind: "hyperdrive", binding: "HD", id: "0123456789abcdef0123456789abcdef" },
  { kind: "d1", binding: "DB", resource: res("d1", "main-db"), migrations: { dir: "/p/migrations", table: "d1_migrations" } },
  { kind: "r2", binding: "FILES", resource: res("r2", "exports", { jurisdiction: "eu" }) },
  { kind: "queue", binding: "JOBS", resource: res("queue", "jobs"), deliveryDelay: 5 },
  { kind: "durable_object", binding: "COUNTER", className: "Counter" },
  { kind: "durable_object", binding: "REMOTE", className: "Room", scriptName: "chat", environment: "production" },
  { kind: "kv", binding: "CACHE", resource: res("kv", "api-cache", { nameFrom: "derived" }) },
];

describe("bindingsMetadata", () => {
  it("writes every binding kind in wrangler's shape and order, with this target's ids", () => {
    const out = bindingsMetadata({
      vars: { GREETING: "hi", LIMITS: { max: 3 }, DEBUG: false },
      secrets: { TOKEN: "s3cret" },
      bindings: EVERY,
      ids: { kv: { "api-cache": "a".repeat(32) }, d1: { "main-db": "11111111-2222-4333-8444-555555555555" } },
    });
    // Exact JSON (key order included): what goes into the metadata part.
    expect(JSON.stringify(out)).toBe(
      JSON.stringify([
        { name: "GREETING", type: "plain_text", text: "hi" },
        { name: "LIMITS", type: "json", json: { max: 3 } },
        { name: "DEBUG", type: "json", json: false },
        { name: "TOKEN", type: "secret_text", text: "s3cret" },
        { name: "CACHE", type: "kv_namespace", namespace_id: "a".repeat(32) },
        { name: "COUNTER", type: "durable_object_namespace", class_name: "Counter" },
        { name: "REMOTE", type: "durable_object_namespace", class_name: "Room", script_name: "chat", environment: "production" },
        { type: "queue", name: "JOBS", queue_name: "jobs", delivery_delay: 5 },
        { name: "FILES", type: "r2_bucket", bucket_name: "exports", jurisdiction: "eu" },
        { name: "DB", type: "d1", id: "11111111-2222-4333-8444-555555555555" },
        { name: "HD", type: "hyperdrive", id: "0123456789abcdef0123456789abcdef" },
        { name: "RL", type: "ratelimit", namespace_id: "1001", simple: { limit: 100, period: 60 } },
        { name: "SVC", type: "service", service: "billing", environment: "production", entrypoint: "Admin", props: { tier: 1 } },
        { name: "AE", type: "analytics_engine", dataset: "events" },
        { name: "AI", staging: true, type: "ai" },
        { name: "VM", type: "version_metadata" },
        { name: "ASSETS", type: "assets" },
      ]),
    );
  });

  it("leaves out what is not set", () => {
    const out = bindingsMetadata({
      bindings: [
        { kind: "r2", binding: "R", resource: res("r2", "plain") },
        { kind: "queue", binding: "Q", resource: res("queue", "q") },
        { kind: "service", binding: "S", service: "other" },
        { kind: "analytics_engine", binding: "A" },
        { kind: "ai", binding: "AI" },
      ],
    });
    expect(out).toEqual([
      { type: "queue", name: "Q", queue_name: "q" },
      { name: "R", type: "r2_bucket", bucket_name: "plain" },
      { name: "S", type: "service", service: "other" },
      { name: "A", type: "analytics_engine" },
      { name: "AI", type: "ai" },
    ]);
  });

  it("refuses a KV or D1 binding whose resource has no id in the target, and a name used twice", () => {
    const missing = () => bindingsMetadata({ bindings: [EVERY.find((b) => b.kind === "d1")!], ids: { d1: {} } });
    expect(missing).toThrow(CboError);
    expect(missing).toThrow(/Binding DB names D1 database "main-db", which has no id in this target/);
    expect(() => bindingsMetadata({ bindings: [{ kind: "kv", binding: "CACHE", resource: res("kv", "c") }] })).toThrow(/KV namespace "c"/);
    expect(() => bindingsMetadata({ vars: { VM: "x" }, bindings: [{ kind: "version_metadata", binding: "VM" }] })).toThrow(
      /VM is used twice/,
    );
  });
});

describe("metadata from the source's settings", () => {
  it("placement as wrangler's parseConfigPlacement; limits, logpush, observability, tail consumers as configured", () => {
    expect(placementMetadata({ mode: "off" })).toBeUndefined();
    expect(placementMetadata({ mode: "smart" })).toEqual({ mode: "smart" });
    expect(placementMetadata({ mode: "smart", hint: "wnam" })).toEqual({ mode: "smart", hint: "wnam" });
    expect(placementMetadata({ hint: "enam" })).toEqual({ mode: "smart", hint: "enam" });
    expect(placementMetadata({ region: "aws:us-east-1" })).toEqual({ mode: "targeted", region: "aws:us-east-1" });
    expect(placementMetadata(undefined)).toBeUndefined();
    expect(uploadSettingsFromSource({ keepVars: false })).toEqual({});
    expect(
      uploadSettingsFromSource({
        keepVars: false,
        placement: { mode: "smart" },
        limits: { cpuMs: 50, subrequests: 10 },
        logpush: true,
        observability: { enabled: true, head_sampling_rate: 0.5 },
        tailConsumers: [{ service: "tail" }],
      }),
    ).toEqual({
      placement: { mode: "smart" },
      limits: { cpu_ms: 50, subrequests: 10 },
      logpush: true,
      observability: { enabled: true, head_sampling_rate: 0.5 },
      tailConsumers: [{ service: "tail" }],
    });
  });

  it("assets config: router settings and the _redirects/_headers text", () => {
    expect(assetsConfigMetadata({ directory: "/p/public" })).toEqual({});
    expect(
      assetsConfigMetadata(
        { directory: "/p/public", htmlHandling: "none", notFoundHandling: "404-page", runWorkerFirst: ["/api/*", "!/api/docs"] },
        { redirects: "/a /b 301\n", headers: "/*\n  X: y\n" },
      ),
    ).toEqual({
      html_handling: "none",
      not_found_handling: "404-page",
      run_worker_first: ["/api/*", "!/api/docs"],
      _redirects: "/a /b 301\n",
      _headers: "/*\n  X: y\n",
    });
  });

  it("a queue consumer as wrangler deploy sends it (§3.2): the batch timeout in ms, no visibility timeout", () => {
    const body = workerConsumerBody("api", {
      queue: res("queue", "jobs"),
      maxBatchSize: 10,
      maxBatchTimeout: 5,
      maxRetries: 3,
      deadLetterQueue: res("queue", "dlq"),
      maxConcurrency: 2,
      retryDelay: 30,
      visibilityTimeoutMs: 1000,
    });
    expect(JSON.stringify(body)).toBe(
      JSON.stringify({
        type: "worker",
        dead_letter_queue: "dlq",
        script_name: "api",
        settings: { batch_size: 10, max_retries: 3, max_wait_time_ms: 5000, max_concurrency: 2, retry_delay: 30 },
      }),
    );
    expect(workerConsumerBody("api", { queue: res("queue", "jobs") })).toEqual({ type: "worker", script_name: "api", settings: {} });
  });
});
