import { describe, expect, it } from "vitest";
import type { WorkerSource } from "../config/source/model.ts";
import type { TargetRuntime } from "./types.ts";
import { ownHost, workerEndpoint } from "./worker-endpoint.ts";

const runtime = {
  name: "eu",
  endpoint: (w: string) => ({ url: "http://127.0.0.1:1/", host: `${w}.localhost` }),
  hostEndpoint: (host: string) => ({ url: "http://127.0.0.1:1/", host }),
} as unknown as TargetRuntime;
const source = (workersDev: boolean | undefined, routes: WorkerSource["routes"]) =>
  ({ settings: { ...(workersDev === undefined ? {} : { workersDev }), keepVars: false }, routes }) as unknown as WorkerSource;

describe("workerEndpoint: where probes and pokes reach a Worker", () => {
  it("picks a custom domain first, else a route covering a whole host; none when only a path is routed", () => {
    expect(ownHost([{ pattern: "example.com/api/*" }, { pattern: "shop.example.com/*", zoneName: "example.com" }])).toBe(
      "shop.example.com",
    );
    expect(ownHost([{ pattern: "shop.example.com/*" }, { pattern: "app.example.com", customDomain: true }])).toBe("app.example.com");
    expect(ownHost([{ pattern: "https://secure.example.com/*" }])).toBe("secure.example.com");
    expect(ownHost([{ pattern: "*.example.com/*" }, { pattern: "example.com/api/*" }])).toBeUndefined();
    expect(ownHost([{ pattern: "off.example.com/*", enabled: false }])).toBeUndefined();
  });

  it("keeps workers.dev while it is on (or unset), and for a Worker with no host of its own", () => {
    const routes = [{ pattern: "shop.example.com/*" }];
    expect(workerEndpoint(runtime, { name: "shop", source: source(true, routes) }).host).toBe("shop.localhost");
    expect(workerEndpoint(runtime, { name: "shop", source: source(undefined, routes) }).host).toBe("shop.localhost");
    expect(workerEndpoint(runtime, { name: "shop", source: source(false, routes) }).host).toBe("shop.example.com");
    expect(workerEndpoint(runtime, { name: "shop", source: source(false, [{ pattern: "example.com/api/*" }]) }).host).toBe(
      "shop.localhost",
    );
    // A target's own source wins over the default environment's.
    const perTarget = { name: "shop", source: source(true, routes), sources: { eu: source(false, [{ pattern: "eu.example.com/*" }]) } };
    expect(workerEndpoint(runtime, perTarget).host).toBe("eu.example.com");
    // A runtime that cannot reach a host keeps workers.dev.
    const bare = { ...runtime, hostEndpoint: undefined } as unknown as TargetRuntime;
    expect(workerEndpoint(bare, { name: "shop", source: source(false, routes) }).host).toBe("shop.localhost");
  });
});
