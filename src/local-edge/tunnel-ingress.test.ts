import { describe, expect, it } from "vitest";
import { createTunnelRoutes } from "./runtime/tunnel-routes.ts";
import { hostMatches, mayBeTunnelHost, routeTunnel } from "./workers/tunnel-ingress.ts";

const DAEMON = "http://127.0.0.1:8700";
const ours = {
  tunnelId: "t-ours",
  rules: [
    { hostname: "edge.example.test", path: "^/v1/relay$", service: DAEMON },
    { hostname: "cbo.example.test", service: DAEMON },
    { service: "http_status:404" },
  ],
};
const wildcard = {
  tunnelId: "t-wild",
  rules: [{ hostname: "*.apps.test", service: "http://127.0.0.1:9000" }, { service: "http_status:503" }],
};

describe("tunnel routing on the local edge", () => {
  it("matches hostnames as cloudflared does: exact, case-insensitive, or a leading wildcard", () => {
    expect(hostMatches("cbo.example.test", "cbo.example.test")).toBe(true);
    expect(hostMatches("*.apps.test", "x.apps.test")).toBe(true);
    expect(hostMatches("*.apps.test", "apps.test")).toBe(false);
    expect(hostMatches(undefined, "anything.test")).toBe(true);
  });

  it("sends a claimed hostname to the first rule that matches host and path, the catch-all last", () => {
    expect(routeTunnel([ours, wildcard], "EDGE.example.test:443", "/v1/relay")).toEqual({ tunnelId: "t-ours", service: DAEMON });
    expect(routeTunnel([ours, wildcard], "edge.example.test", "/v1/status")).toEqual({ tunnelId: "t-ours", service: "http_status:404" });
    expect(routeTunnel([ours, wildcard], "cbo.example.test", "/v1/status")).toEqual({ tunnelId: "t-ours", service: DAEMON });
    expect(routeTunnel([ours, wildcard], "a.apps.test", "/")).toEqual({ tunnelId: "t-wild", service: "http://127.0.0.1:9000" });
  });

  it("leaves hostnames no tunnel names alone (a catch-all does not claim the world)", () => {
    expect(routeTunnel([ours, wildcard], "api.example.com", "/")).toBeUndefined();
  });

  it("never looks up IP literals or localhost", () => {
    for (const h of ["127.0.0.1:8700", "[::1]:8700", "localhost:1", "w.localhost:8781", "intranet"]) expect(mayBeTunnelHost(h)).toBe(false);
    expect(mayBeTunnelHost("cbo.example.test")).toBe(true);
  });

  it("reads live tunnels in creation order and skips deleted or unconfigured ones", () => {
    const rows = [
      {
        id: "new",
        created_at: "2026-02-01",
        deleted_at: null,
        config: { ingress: [{ hostname: "cbo.example.test", service: "http://127.0.0.1:2" }, { service: "http_status:404" }] },
      },
      { id: "old", created_at: "2026-01-01", deleted_at: null, config: { ingress: ours.rules } },
      {
        id: "gone",
        created_at: "2025-01-01",
        deleted_at: "2025-06-01",
        config: { ingress: [{ hostname: "cbo.example.test", service: "http://127.0.0.1:3" }, { service: "http_status:404" }] },
      },
      { id: "bare", created_at: "2024-01-01", deleted_at: null, config: null },
    ];
    const route = createTunnelRoutes(() => rows);
    expect(route("cbo.example.test", "/")).toEqual({ tunnelId: "old", service: DAEMON });
    rows[1]!.deleted_at = "2026-03-01";
    expect(route("cbo.example.test", "/")).toEqual({ tunnelId: "new", service: "http://127.0.0.1:2" });
  });
});
