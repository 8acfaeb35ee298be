import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { cloudflaredArgs, cloudflaredConfigYaml } from "./cloudflared-config.ts";
import { buildIngress, checkIngress, ingressService, sameIngress } from "./ingress.ts";
import { nextSteps } from "./next-steps.ts";

describe("tunnel ingress", () => {
  it("routes the daemon's hostname to its loopback URL and ends with the catch-all 404", () => {
    expect(buildIngress({ hostname: "cbo.example.com", agentHostname: null, service: "http://127.0.0.1:8700" })).toEqual([
      { hostname: "cbo.example.com", service: "http://127.0.0.1:8700" },
      { service: "http_status:404" },
    ]);
  });

  it("gives Workers' own hostname only the relay and heartbeat paths, anchored", () => {
    const rules = buildIngress({ hostname: "cbo.example.com", agentHostname: "edge.example.com", service: "http://127.0.0.1:8700" });
    expect(rules.map((r) => [r.hostname ?? "*", r.path ?? "*"])).toEqual([
      ["edge.example.com", "^/v1/relay$"],
      ["edge.example.com", "^/v1/agent/heartbeat$"],
      ["cbo.example.com", "*"],
      ["*", "*"],
    ]);
    expect(rules.at(-1)).toEqual({ service: "http_status:404" });
    // The same hostname twice needs no path rules: the whole API is already there.
    expect(buildIngress({ hostname: "a.example.com", agentHostname: "a.example.com", service: "http://127.0.0.1:1" })).toHaveLength(2);
  });

  it("refuses an ingress whose catch-all is missing or not last", () => {
    expect(() => checkIngress([{ hostname: "a.example.com", service: "http://x" }])).toThrow(/catch-all/);
    expect(() => checkIngress([{ service: "http_status:404" }, { hostname: "a.example.com", service: "http://x" }])).toThrow(/catch-all/);
    expect(() => checkIngress([{ service: "http_status:404" }, { service: "http_status:404" }])).toThrow(/Only the last/);
  });

  it("points at loopback even when the daemon listens on every interface", () => {
    expect(ingressService("http://127.0.0.1:8700")).toBe("http://127.0.0.1:8700");
    expect(ingressService("http://0.0.0.0:8700/")).toBe("http://127.0.0.1:8700");
    expect(ingressService("http://[::]:8700")).toBe("http://[::1]:8700");
  });

  it("compares ingress lists rule by rule", () => {
    const a = buildIngress({ hostname: "a.example.com", agentHostname: null, service: "http://127.0.0.1:1" });
    expect(sameIngress(a, structuredClone(a))).toBe(true);
    expect(sameIngress(a, buildIngress({ hostname: "a.example.com", agentHostname: null, service: "http://127.0.0.1:2" }))).toBe(false);
  });
});

describe("cloudflared's files", () => {
  it("writes a config cloudflared can read: tunnel id, no autoupdate, the same ingress, and no token", () => {
    const ingress = buildIngress({ hostname: "cbo.example.com", agentHostname: "edge.example.com", service: "http://127.0.0.1:8700" });
    const text = cloudflaredConfigYaml({ tunnelId: "6ff42ae2-765d-4adf-8112-31c55c1551ef", ingress, tokenFile: "/data/tunnel/token" });
    const doc = parse(text) as { tunnel: string; "no-autoupdate": boolean; ingress: unknown[] };
    expect(doc.tunnel).toBe("6ff42ae2-765d-4adf-8112-31c55c1551ef");
    expect(doc["no-autoupdate"]).toBe(true);
    expect(doc.ingress).toEqual(ingress);
    expect(text).toContain("--token-file /data/tunnel/token");
  });

  it("runs the connector with the token from a file, never on the command line", () => {
    expect(cloudflaredArgs({ configFile: "/d/cloudflared.yml", tokenFile: "/d/token" })).toEqual([
      "tunnel",
      "--no-autoupdate",
      "--config",
      "/d/cloudflared.yml",
      "run",
      "--token-file",
      "/d/token",
    ]);
  });

  it("tells the operator about DNS only for Cloudflare tunnels, and about the release either way", () => {
    const r = {
      version: 1 as const,
      id: "t1",
      name: "n",
      target: "eu",
      accountId: "a",
      local: false,
      hostname: "cbo.example.com",
      agentHostname: "edge.example.com",
      service: "http://127.0.0.1:1",
      ingress: [],
      configVersion: 1,
      createdAt: "",
      appliedAt: "",
    };
    const cf = nextSteps(r, "not-installed");
    expect(cf.filter((s) => s.includes("t1.cfargotunnel.com"))).toHaveLength(2);
    expect(cf.some((s) => s.startsWith("Install cloudflared"))).toBe(true);
    expect(cf.at(-1)).toContain("https://edge.example.com as CBO_ORCHESTRATOR_URL");
    const local = nextSteps({ ...r, local: true }, "not-installed");
    expect(local.some((s) => s.includes("cfargotunnel") || s.startsWith("Install"))).toBe(false);
  });
});
