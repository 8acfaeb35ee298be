import { describe, expect, it } from "vitest";
import { TunnelStatusSchema, type TunnelStatus } from "../contract/index.ts";
import { fitLine, tunnelView } from "./tunnel-view.ts";

// GET /v1/tunnel/status as the daemon answered it on `npm start` after `cbo tunnel create`
// (the example fleet on the local edge, no cloudflared installed), checked against the contract.
const LOCAL: TunnelStatus = TunnelStatusSchema.parse({
  configured: true,
  tunnel: {
    id: "25621e93-2bd7-4314-95b6-a0539ab87120",
    name: "clawdbot-orchestrator",
    target: "eu",
    accountId: "a7d42712593b1d15d897ca1063a90196",
    hostname: "clawdbot-orchestrator.tunnel.test",
    agentHostname: null,
    publicUrl: "https://clawdbot-orchestrator.tunnel.test",
    agentUrl: "https://clawdbot-orchestrator.tunnel.test",
    local: true,
    configVersion: 1,
    appliedAt: "2026-12-07T13:42:54.802Z",
  },
  remote: { status: "inactive", connections: 0, error: null },
  process: {
    binary: null,
    pid: null,
    startedAt: null,
    restarts: 0,
    attempt: 0,
    nextRestartMs: null,
    exits: [],
    install: "cloudflared is not installed, …",
    state: "not-installed",
  },
  files: { config: "/d/tunnel/cloudflared.yml", token: "/d/tunnel/token", record: "/d/tunnel/tunnel.json" },
  note: "On the local edge the edge itself routes the tunnel's hostnames to the ingress service, so Workers reach the daemon without a connector.",
});

describe("the architecture picture's tunnel box", () => {
  it("a tunnel on the local edge works without cloudflared: up, routed by the edge", () => {
    expect(tunnelView(LOCAL)).toEqual({ state: "up", line: "routed by the local edge", host: "clawdbot-orchestrator.tunnel.test" });
  });

  it("on Cloudflare without cloudflared it is down, and the line is cut at a word", () => {
    const v = tunnelView({ ...LOCAL, tunnel: { ...LOCAL.tunnel!, local: false } });
    expect(v.state).toBe("down");
    expect(v.line).toBe("cloudflared not-installed, edge…");
    expect(
      tunnelView({ ...LOCAL, tunnel: { ...LOCAL.tunnel!, local: false }, remote: { status: "healthy", connections: 4, error: null } })
        .state,
    ).toBe("up");
  });

  it("none configured; a short line is left whole", () => {
    expect(tunnelView({ ...LOCAL, configured: false, tunnel: null }).state).toBe("none");
    expect(fitLine("cloudflared running")).toBe("cloudflared running");
  });
});
