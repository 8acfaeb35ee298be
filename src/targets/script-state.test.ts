import { describe, expect, it } from "vitest";
import type { WorkerSource } from "../config/source/model.ts";
import { changedKeys, desiredState, managedKeys, readCount, satisfies, writeCount } from "./script-state.ts";

const source = (over: Partial<WorkerSource> = {}): WorkerSource =>
  ({
    name: "jobs",
    origin: { kind: "spec", file: "/x/orchestrator.yaml" },
    projectRoot: "/x",
    compatibilityFlags: [],
    vars: {},
    bindings: [],
    migrations: [],
    queueConsumers: [],
    triggers: {},
    routes: [],
    build: {} as WorkerSource["build"],
    settings: { keepVars: false },
    requiredSecrets: [],
    warnings: [],
    ignored: [],
    ...over,
  }) as WorkerSource;

describe("wrangler's service and environment tags", () => {
  const wrangler = (env: string | undefined, definedEnvironments: string[], topLevelName: string | undefined = "shop") =>
    source({
      origin: {
        kind: "wrangler",
        file: "/x/wrangler.toml",
        definedEnvironments,
        ...(env ? { env } : {}),
        ...(topLevelName ? { topLevelName } : {}),
      },
    });

  it("tags a Worker of a file with environments, as wrangler deploy does, and nothing else", () => {
    expect(desiredState("shop-production", wrangler("production", ["production", "staging"])).serviceTags).toEqual([
      "cf:service=shop",
      "cf:environment=production",
    ]);
    expect(desiredState("shop", wrangler(undefined, ["production"])).serviceTags).toEqual(["cf:service=shop"]);
    expect(desiredState("shop", wrangler(undefined, [])).serviceTags).toBeUndefined();
    expect(desiredState("shop-production", wrangler("production", ["production"], "")).serviceTags).toBeUndefined();
    expect(desiredState("jobs", source()).serviceTags).toBeUndefined();
  });

  it("compares the two tags as a list, shares the script-settings read, and reads the other tags before writing", () => {
    const want = desiredState("shop-production", wrangler("production", ["production"]));
    expect(changedKeys({ serviceTags: ["cf:service=shop", "cf:environment=production"] }, want)).toEqual([]);
    expect(changedKeys({ serviceTags: ["cf:service=shop", "cf:environment=staging"] }, want)).toEqual(["serviceTags"]);
    expect(readCount({ ...want, logpush: true })).toBe(1);
    expect(writeCount(want, ["serviceTags"])).toBe(2);
  });
});

describe("desiredState", () => {
  it("manages only what the source sets: unset crons, routes, settings are never touched", () => {
    expect(desiredState("jobs", source())).toEqual({});
    const s = desiredState(
      "jobs",
      source({
        triggers: { crons: [] },
        routes: [{ pattern: "a.example.com/*" }, { pattern: "shop.example.com", customDomain: true }],
        settings: { keepVars: false, workersDev: false, observability: { enabled: true }, logpush: true },
        queueConsumers: [{ queue: { kind: "queue", name: "q", nameFrom: "spec" }, maxBatchSize: 5, maxBatchTimeout: 2 }],
      }),
    );
    expect(s).toEqual({
      crons: [],
      routes: [{ pattern: "a.example.com/*" }],
      customDomains: [{ hostname: "shop.example.com" }],
      workersDev: false,
      logpush: true,
      observability: { enabled: true },
      consumers: [{ queue: "q", consumer: { type: "worker", script_name: "jobs", settings: { batch_size: 5, max_wait_time_ms: 2000 } } }],
    });
    expect(managedKeys(s)).toEqual(["crons", "routes", "customDomains", "workersDev", "logpush", "observability", "consumers"]);
  });
});

describe("changedKeys", () => {
  it("compares sets in any order, objects on the desired keys only, and everything for a new script", () => {
    const desired = {
      crons: ["a", "b"],
      routes: [{ pattern: "x/*" }],
      observability: { enabled: true },
      consumers: [{ queue: "q", consumer: { type: "worker" as const, script_name: "jobs", settings: { batch_size: 5 } } }],
    };
    expect(changedKeys(null, desired)).toEqual(["crons", "routes", "observability", "consumers"]);
    const same = {
      crons: ["b", "a"],
      routes: [{ pattern: "x/*", zoneName: "x" }],
      observability: { enabled: true, head_sampling_rate: 1 },
      consumers: [{ queue: "q", consumer: { type: "worker" as const, script_name: "jobs", settings: { batch_size: 5, max_retries: 3 } } }],
    };
    expect(changedKeys(same, desired)).toEqual([]);
    expect(changedKeys({ ...same, crons: ["a"], observability: { enabled: false } }, desired)).toEqual(["crons", "observability"]);
    expect(changedKeys({ ...same, consumers: [{ queue: "q", consumer: null }] }, desired)).toEqual(["consumers"]);
  });

  it("a consumer setting the file no longer sets is Cloudflare's default again, not whatever the edge holds", () => {
    // The file had max_retries = 0 and max_concurrency = 1, then dropped them: wrangler deploy PUTs
    // the consumer without them and Cloudflare puts back 3 and null (autoscaling).
    const consumer = (settings: Record<string, number | null>) => [
      { queue: "q", consumer: { type: "worker" as const, script_name: "jobs", settings } },
    ];
    const desired = { consumers: consumer({ batch_size: 5 }) };
    const live = { batch_size: 5, max_retries: 0, max_wait_time_ms: 5000, max_concurrency: 1, retry_delay: 0 };
    expect(changedKeys({ consumers: consumer(live) }, desired)).toEqual(["consumers"]);
    expect(changedKeys({ consumers: consumer({ ...live, max_concurrency: null }) }, desired)).toEqual(["consumers"]);
    expect(changedKeys({ consumers: consumer({ ...live, max_retries: 3, max_concurrency: null }) }, desired)).toEqual([]);
    // The edge leaves out a null max_concurrency: it is the default too.
    expect(changedKeys({ consumers: consumer({ batch_size: 5, max_retries: 3 }) }, desired)).toEqual([]);
  });

  it("satisfies: arrays by position, objects by the desired keys", () => {
    expect(satisfies({ a: 1, b: 2 }, { a: 1 })).toBe(true);
    expect(satisfies({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(satisfies([1, 2], [1, 2])).toBe(true);
    expect(satisfies([2, 1], [1, 2])).toBe(false);
  });
});

describe("request counts", () => {
  it("one read per group of keys, one per consumed queue; writes as the calls writeState makes", () => {
    const s = {
      crons: [],
      workersDev: true,
      previewUrls: false,
      logpush: true,
      observability: {},
      consumers: [
        { queue: "a", consumer: null },
        { queue: "b", consumer: null },
      ],
    };
    // schedules, subdomain, script-settings, two queues
    expect(readCount(s)).toBe(5);
    expect(writeCount(s, ["crons", "previewUrls", "observability", "consumers"])).toBe(1 + 1 + 1 + 4);
    // Preview URLs alone: the POST needs `enabled`, read first.
    expect(writeCount({ previewUrls: true }, ["previewUrls"])).toBe(2);
  });
});
