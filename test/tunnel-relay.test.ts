// Workers reach the orchestrator through the tunnel hostname on the local edge, as they would at
// Cloudflare: once a tunnel exists, a release gives the Worker CBO_ORCHESTRATOR_URL =
// https://<agent hostname>, and the Worker's own fetch() of that URL inside workerd arrives at the
// daemon through the edge's tunnel routing (no .test name resolves anywhere else). The Worker
// fetches a relay secret that way (src/kit/relay.ts bundled into it) and reports its hash; the
// ingress's path rules and catch-all decide what else on those hostnames reaches the daemon.
import { createHash, randomBytes } from "node:crypto";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpGet } from "./support/http.ts";
import { startTunnelRig, type TunnelRig } from "./tunnel-fixture.ts";

const KIT = fileURLToPath(new URL("../src/kit/", import.meta.url));
const sha = (v: string) => createHash("sha256").update(v).digest("hex");
const VALUE = `relay-through-tunnel-${randomBytes(12).toString("hex")}`;

const WORKER = `
import { createRelayRequest, openRelayResponse } from ${JSON.stringify(join(KIT, "relay.ts"))};
import { base64urlToBytes } from ${JSON.stringify(join(KIT, "signing/index.ts"))};
const sha = async (v) => [...new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(v)))].map((b) => b.toString(16).padStart(2, "0")).join("");
export default {
  async fetch(req, env) {
    const url = new URL(req.url);
    if (url.pathname === "/relay") {
      const key = base64urlToBytes(env.CBO_WORKER_KEY);
      const who = { worker: env.CBO_WORKER, target: env.CBO_TARGET, secret: "TUNNEL_SECRET" };
      const r = await createRelayRequest(who, key);
      const res = await fetch(env.CBO_ORCHESTRATOR_URL + "/v1/relay", { method: "POST", headers: r.headers, body: r.body });
      if (!res.ok) return Response.json({ status: res.status, body: await res.text() }, { status: 502 });
      const open = await openRelayResponse(await res.json(), who, key);
      return Response.json({ via: env.CBO_ORCHESTRATOR_URL, version: open.version, hash: await sha(open.value) });
    }
    if (url.pathname === "/probe") {
      try {
        const res = await fetch(url.searchParams.get("url"), { method: url.searchParams.get("method") ?? "GET", ...(url.searchParams.get("method") === "POST" ? { body: "{}", headers: { "content-type": "application/json" } } : {}) });
        return Response.json({ status: res.status, body: await res.text() });
      } catch (e) {
        return Response.json({ error: String(e) });
      }
    }
    return Response.json({ orchestratorUrl: env.CBO_ORCHESTRATOR_URL ?? null });
  },
};
`;

const SPEC = `version: 1
targets:
  - { name: eu, api: local }
rollout:
  steps: [100]
  gate: { bake_ms: 100, min_samples: 2, interval_ms: 20 }
workers:
  - name: relayed
    main: relayed.js
    secrets: [TUNNEL_SECRET]
`;

describe("Workers reach the orchestrator through the tunnel hostname on the local edge", () => {
  let rig: TunnelRig;
  const port = () => rig.t.edge.regions[0]!.port;
  const worker = async (path: string) => {
    const r = await httpGet(port(), "relayed.localhost", { path });
    return { status: r.status, body: JSON.parse(r.body) as Record<string, unknown> };
  };
  const probe = async (url: string, method = "GET") => (await worker(`/probe?${new URLSearchParams({ url, method })}`)).body;
  const settle = async (id: string) => {
    for (;;) {
      const r = await rig.api<{ release: { status: string; reason: string | null } }>("GET", `/v1/releases/${id}`);
      if (!["running", "rolling_back"].includes(r.release.status)) return r.release;
      await new Promise((res) => setTimeout(res, 50));
    }
  };

  beforeAll(async () => {
    rig = await startTunnelRig({ spec: SPEC, files: { "relayed.js": WORKER } });
    await rig.api("PUT", "/v1/secrets/TUNNEL_SECRET", { value: VALUE, mode: "relay" });
    await rig.api("POST", "/v1/tunnel", { hostname: "cbo.example.test", agentHostname: "edge.example.test" });
    const started = await rig.api<{ id: string }>("POST", "/v1/releases", { worker: "relayed" }, 202);
    expect(await settle(started.id)).toMatchObject({ status: "succeeded" });
  }, 120_000);
  afterAll(async () => rig?.close());

  it("gives the released Worker the tunnel's agent URL as CBO_ORCHESTRATOR_URL", async () => {
    expect((await worker("/")).body).toEqual({ orchestratorUrl: "https://edge.example.test" });
  });

  it("the Worker's fetch of the tunnel URL reaches the daemon's relay and gets its secret", async () => {
    const before = rig.d.security.audit.search({ action: "secret.read", limit: 1000 }).length;
    const r = await worker("/relay");
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toEqual({ via: "https://edge.example.test", version: 1, hash: sha(VALUE) });
    // The daemon served it: its vault recorded the read for the relay.
    const reads = rig.d.security.audit.search({ action: "secret.read", limit: 1000 });
    expect(reads.length).toBe(before + 1);
    expect(JSON.stringify(reads.at(-1))).toContain("relay");
  });

  it("heartbeats on the agent hostname reach the daemon too; other paths there stop at the catch-all", async () => {
    // An unsigned heartbeat: the daemon itself refuses it, with its own error body.
    const hb = await probe("https://edge.example.test/v1/agent/heartbeat", "POST");
    expect(hb.status).toBeGreaterThanOrEqual(400);
    expect(hb.status).not.toBe(404);
    expect(JSON.parse(hb.body as string)).toHaveProperty("error.code");
    // The API is not on the Workers' hostname: the catch-all answers 404 with no body from the daemon.
    expect(await probe("https://edge.example.test/v1/health")).toEqual({ status: 404, body: "" });
  });

  it("the operator's hostname reaches the whole API", async () => {
    const health = await probe("https://cbo.example.test/v1/health");
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body as string)).toMatchObject({ ok: true, tunnel: { configured: true } });
  });

  it("a re-applied ingress without the agent hostname takes effect on the next request", async () => {
    await rig.api("PUT", "/v1/tunnel/config", { agentHostname: null });
    // edge.example.test is now no tunnel's hostname: it goes out as any other name and fails to resolve.
    const gone = await probe("https://edge.example.test/v1/agent/heartbeat", "POST");
    expect(gone.status).toBeUndefined();
    expect(String(gone.error)).toBeTruthy();
    await rig.api("PUT", "/v1/tunnel/config", { agentHostname: "edge.example.test" });
    expect((await worker("/relay")).status).toBe(200);
  });
});
