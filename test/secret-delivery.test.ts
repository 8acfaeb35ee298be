// Secret delivery end to end: a real daemon releases a Worker that lists four vault secrets to a
// real two-region local edge (eu and us jurisdictions). The Worker reports SHA-256 hashes of what
// it holds (never values) and fetches relay secrets through the real relay endpoint with its
// per-Worker key, using src/kit/relay.ts bundled into it. Checked: binding secrets ship inside
// the released version, an eu-tagged secret never reaches us (bindings read back from the edge),
// a delivery ships new versions, a rollback restores the previous ones on every target (binding
// and relay), signed relay requests that are replayed, stale, wrong-key, truncated or re-ordered
// are refused and change nothing, and a key rotation accepts both keys until the release ships
// the new one, then only the new one.
import { createHash, randomBytes } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCloudflareClient } from "../src/cloudflare/index.ts";
import type { Daemon } from "../src/daemon.ts";
import { createRelayRequest } from "../src/kit/relay.ts";
import { signPayload } from "../src/kit/signing/index.ts";
import { startDaemonIn } from "./support/daemon-rig.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { relayWorkerSource } from "./support/relay-worker.ts";
import { httpGet } from "./support/http.ts";
import { jurisdictionsFleetYaml } from "./support/orchestrator.ts";

const sha = (v: string) => createHash("sha256").update(v).digest("hex");
const VALUES = {
  GLOBAL_KEY: [`global-v1-${randomBytes(8).toString("hex")}`, `global-v2-${randomBytes(8).toString("hex")}`],
  EU_KEY: [`eu-only-${randomBytes(8).toString("hex")}`],
  RELAY_TOKEN: [`relay-v1-${randomBytes(8).toString("hex")}`, `relay-v2-${randomBytes(8).toString("hex")}`],
  EU_RELAY: [`eu-relay-${randomBytes(8).toString("hex")}`],
};

const WORKER = relayWorkerSource(
  "{ GLOBAL_KEY: await sha(env.GLOBAL_KEY), EU_KEY: await sha(env.EU_KEY), RELAY_TOKEN: env.RELAY_TOKEN ?? null, pins: env.CBO_SECRET_VERSIONS ?? null }",
);

const SPEC = jurisdictionsFleetYaml("vaulted", ["GLOBAL_KEY", "EU_KEY", "RELAY_TOKEN", "EU_RELAY"]);

describe("secret delivery through releases and the relay", () => {
  let t: TestEdge;
  let dir: string;
  let d: Daemon;
  let token: string;

  async function api<T = Record<string, unknown>>(method: string, path: string, body?: unknown, expectStatus?: number): Promise<T> {
    const res = await fetch(new URL(path, d.url), {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json = (await res.json()) as T;
    if (expectStatus !== undefined) expect(res.status, JSON.stringify(json)).toBe(expectStatus);
    else if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  }
  const settle = async (id: string) => {
    for (;;) {
      const r = await api<{ release: { status: string; reason: string | null } }>("GET", `/v1/releases/${id}`);
      if (!["running", "rolling_back"].includes(r.release.status)) return r.release;
      await new Promise((res) => setTimeout(res, 50));
    }
  };
  const release = async () => settle((await api<{ id: string }>("POST", "/v1/releases", { worker: "vaulted" }, 202)).id);
  const port = (region: string) => t.edge.regions.find((r) => r.name === region)!.port;
  const seen = async (region: string, path = "/") => {
    const r = await httpGet(port(region), "vaulted.localhost", { path });
    return { status: r.status, body: JSON.parse(r.body) as Record<string, unknown> };
  };
  const relay = async (region: string, secret: string) => seen(region, `/relay?secret=${secret}`);
  const liveBindings = async (region: string) => {
    const info = t.edge.regions.find((r) => r.name === region)!;
    const client = createCloudflareClient({ baseUrl: t.edge.apiUrl, apiToken: t.edge.token, accountId: info.accountId });
    const [live] = (await client.listDeployments("vaulted"))[0]!.versions;
    const v = await client.getVersion("vaulted", live!.version_id);
    return ((v.resources as { bindings?: Array<{ name: string; type: string }> }).bindings ?? []).map((b) => `${b.type}:${b.name}`).sort();
  };
  const put = (name: string, value: string, extra: Record<string, unknown> = {}) => api("PUT", `/v1/secrets/${name}`, { value, ...extra });
  const relayPost = (body: string, signature: string) =>
    fetch(new URL("/v1/relay", d.url), {
      method: "POST",
      headers: { "content-type": "application/json", "cbo-signature": signature },
      body,
    });
  const auditActions = () => d.security.audit.search({ limit: 10_000 }).map((e) => e.action);

  beforeAll(async () => {
    t = await startTestEdge({ regions: ["eu", "us"] });
    dir = await makeTempDir("delivery");
    writeFileSync(join(dir, "orchestrator.yaml"), SPEC);
    writeFileSync(join(dir, "vaulted.js"), WORKER);
    d = await startDaemonIn(dir, t.edge);
    token = d.initialAdminToken!;
    await put("GLOBAL_KEY", VALUES.GLOBAL_KEY[0]!, { mode: "binding" });
    await put("EU_KEY", VALUES.EU_KEY[0]!, { mode: "binding", jurisdictions: ["eu"] });
    await put("RELAY_TOKEN", VALUES.RELAY_TOKEN[0]!, { mode: "relay" });
    await put("EU_RELAY", VALUES.EU_RELAY[0]!, { mode: "relay", jurisdictions: ["eu"] });
  }, 60_000);
  afterAll(async () => {
    await d?.close();
    await t?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("plans the secret versions per target and withholds the eu secrets from us", async () => {
    const plan = await api<{ secrets: Array<{ target: string; name: string; version: number; delivered: boolean; reason?: string }> }>(
      "GET",
      "/v1/workers/vaulted/plan",
    );
    const us = plan.secrets.filter((s) => s.target === "us");
    expect(
      us
        .filter((s) => !s.delivered)
        .map((s) => s.name)
        .sort(),
    ).toEqual(["EU_KEY", "EU_RELAY"]);
    expect(us.find((s) => s.name === "EU_KEY")!.reason).toContain("tagged eu");
    expect(plan.secrets.filter((s) => s.target === "eu").every((s) => s.delivered && s.version === 1)).toBe(true);
  });

  it("a release ships binding secrets in the version; the eu secret never reaches us", async () => {
    expect(await release()).toMatchObject({ status: "succeeded" });
    const eu = await seen("eu");
    expect(eu.body).toEqual({
      GLOBAL_KEY: sha(VALUES.GLOBAL_KEY[0]!),
      EU_KEY: sha(VALUES.EU_KEY[0]!),
      RELAY_TOKEN: null,
      pins: { RELAY_TOKEN: 1, EU_RELAY: 1 },
    });
    const us = await seen("us");
    expect(us.body).toEqual({ GLOBAL_KEY: sha(VALUES.GLOBAL_KEY[0]!), EU_KEY: null, RELAY_TOKEN: null, pins: { RELAY_TOKEN: 1 } });
    // Read back from the edge's own record of the live version: names and types only.
    // (A Worker with secrets runs the edge agent by default: its identity, keys, config namespace.)
    expect(await liveBindings("us")).toEqual([
      "json:CBO_SECRET_VERSIONS",
      "kv_namespace:CBO_CONFIG",
      "plain_text:CBO_ORCHESTRATOR_URL",
      "plain_text:CBO_PUBLIC_KEY",
      "plain_text:CBO_TARGET",
      "plain_text:CBO_WORKER",
      "secret_text:CBO_WORKER_KEY",
      "secret_text:GLOBAL_KEY",
      "version_metadata:CBO_VERSION",
    ]);
    expect(await liveBindings("eu")).toContain("secret_text:EU_KEY");
  });

  it("relay: a Worker fetches its relay secret sealed to its key; jurisdiction is enforced at the relay", async () => {
    const us = await relay("us", "RELAY_TOKEN");
    expect(us.body).toMatchObject({ version: 1, hash: sha(VALUES.RELAY_TOKEN[0]!) });
    expect(us.body.ttlMs as number).toBeGreaterThan(200_000);
    expect((await relay("eu", "EU_RELAY")).body).toMatchObject({ version: 1, hash: sha(VALUES.EU_RELAY[0]!) });
    expect(await relay("us", "EU_RELAY")).toEqual({ status: 502, body: { status: 403, code: "ERR_FORBIDDEN" } });
    // A binding secret is not served by the relay, and an unlisted one neither.
    expect((await relay("eu", "GLOBAL_KEY")).body).toEqual({ status: 403, code: "ERR_FORBIDDEN" });
    const reads = d.security.audit.search({ action: "secret.read", limit: 100 }).filter((e) => e.actor.startsWith("worker:"));
    expect(reads.map((e) => `${e.actor} ${e.target}`).sort()).toEqual([
      "worker:vaulted@eu secret:EU_RELAY",
      "worker:vaulted@us secret:RELAY_TOKEN",
    ]);
  });

  it("delivery ships new versions; rollback restores the previous ones on every target", async () => {
    await put("GLOBAL_KEY", VALUES.GLOBAL_KEY[1]!);
    await put("RELAY_TOKEN", VALUES.RELAY_TOKEN[1]!);
    const delivered = await api<{ version: number; releases: Array<{ worker: string; releaseId: string }> }>(
      "POST",
      "/v1/secrets/GLOBAL_KEY/deliver",
      undefined,
      202,
    );
    expect(delivered).toMatchObject({ version: 2, releases: [{ worker: "vaulted" }] });
    expect(await settle(delivered.releases[0]!.releaseId)).toMatchObject({ status: "succeeded" });
    for (const region of ["eu", "us"]) {
      expect((await seen(region)).body).toMatchObject({
        GLOBAL_KEY: sha(VALUES.GLOBAL_KEY[1]!),
        pins: expect.objectContaining({ RELAY_TOKEN: 2 }),
      });
      expect((await relay(region, "RELAY_TOKEN")).body).toMatchObject({ version: 2, hash: sha(VALUES.RELAY_TOKEN[1]!) });
    }
    // Going back to older secret versions is a downgrade: it needs its own confirmation (issue 14).
    const refused = await api<{ error: { code: string; message: string } }>("POST", "/v1/workers/vaulted/rollback", {}, 428);
    expect(refused.error.code).toBe("ERR_CONFIRMATION_REQUIRED");
    expect(refused.error.message).toContain("GLOBAL_KEY v2 -> v1");
    const back = await api<{ id: string }>("POST", "/v1/workers/vaulted/rollback", { confirm_secret_downgrade: true }, 202);
    expect(await settle(back.id)).toMatchObject({ status: "succeeded" });
    for (const region of ["eu", "us"]) {
      expect((await seen(region)).body).toMatchObject({
        GLOBAL_KEY: sha(VALUES.GLOBAL_KEY[0]!),
        pins: expect.objectContaining({ RELAY_TOKEN: 1 }),
      });
      expect((await relay(region, "RELAY_TOKEN")).body).toMatchObject({ version: 1, hash: sha(VALUES.RELAY_TOKEN[0]!) });
    }
    // A version no release pinned is refused even with a valid signature.
    const key = d.security.workerKeys.current({ tenant: "default", worker: "vaulted", target: "us" }, "test");
    const r = await createRelayRequest({ worker: "vaulted", target: "us", secret: "RELAY_TOKEN", version: 3 }, key.key);
    expect((await relayPost(r.body, r.headers["cbo-signature"]!)).status).toBe(403);
  });

  it("refuses replayed, stale, wrong-key, truncated and re-ordered signatures, changing nothing", async () => {
    const key = d.security.workerKeys.current({ tenant: "default", worker: "vaulted", target: "us" }, "test").key;
    const req = await createRelayRequest({ worker: "vaulted", target: "us", secret: "RELAY_TOKEN" }, key);
    const sig = req.headers["cbo-signature"]!;
    const readsBefore = auditActions().filter((a) => a === "secret.read").length;
    const denied = async (body: string, header: string, reason: string) => {
      const res = await relayPost(body, header);
      const json = (await res.json()) as { error: { code: string; details?: { reason?: string } } };
      expect([res.status, json.error.code, json.error.details?.reason]).toEqual([401, "ERR_UNAUTHORIZED", reason]);
    };
    expect((await relayPost(req.body, sig)).status).toBe(200);
    await denied(req.body, sig, "replayed");
    const stale = await createRelayRequest({ worker: "vaulted", target: "us", secret: "RELAY_TOKEN" }, key, {
      now: () => Date.now() - 301_000,
    });
    await denied(stale.body, stale.headers["cbo-signature"]!, "timestamp_out_of_tolerance");
    const wrong = await createRelayRequest({ worker: "vaulted", target: "us", secret: "RELAY_TOKEN" }, randomBytes(32));
    await denied(wrong.body, wrong.headers["cbo-signature"]!, "no_matching_signature");
    const fresh = await createRelayRequest({ worker: "vaulted", target: "us", secret: "RELAY_TOKEN" }, key);
    const fsig = fresh.headers["cbo-signature"]!;
    await denied(fresh.body, fsig.slice(0, -2), "malformed_header");
    await denied(fresh.body, fsig.slice(0, fsig.length - 10), "malformed_header");
    const [tPart, vPart] = fsig.split(",");
    await denied(fresh.body, `${vPart},${tPart}`, "malformed_header");
    const reordered = JSON.stringify(Object.fromEntries(Object.entries(JSON.parse(fresh.body) as Record<string, unknown>).reverse()));
    await denied(reordered, fsig, "no_matching_signature");
    // Another Worker's identity with this Worker's key: no key of that Worker matches.
    const other = await createRelayRequest({ worker: "vaulted", target: "eu", secret: "RELAY_TOKEN" }, key);
    await denied(other.body, other.headers["cbo-signature"]!, "no_matching_signature");
    // The refusals read nothing (one read: the first, accepted request) and are each on the record.
    expect(auditActions().filter((a) => a === "secret.read").length).toBe(readsBefore + 1);
    expect(d.security.audit.search({ action: "relay.denied", limit: 100 }).length).toBeGreaterThanOrEqual(7);
    // The untouched fresh request still works once: refusals did not consume it.
    expect((await relayPost(fresh.body, fsig)).status).toBe(200);
  });

  it("key rotation: both keys verify until a release ships the new one, then only the new one", async () => {
    const who = { tenant: "default", worker: "vaulted", target: "us" };
    const old = d.security.workerKeys.current(who, "test");
    const rotated = await api<{ keys: Array<{ target: string; current: number; accepted: number[] }>; release: null }>(
      "POST",
      "/v1/keys/workers/vaulted/rotate",
      { release: false },
      202,
    );
    expect(rotated.keys.find((k) => k.target === "us")).toMatchObject({
      current: old.version + 1,
      accepted: [old.version + 1, old.version],
    });
    expect(JSON.stringify(rotated)).not.toContain(Buffer.from(old.key).toString("base64url"));
    const fresh = d.security.workerKeys.current(who, "test");
    const signedBy = async (k: Uint8Array) => {
      const r = await createRelayRequest({ worker: "vaulted", target: "us", secret: "RELAY_TOKEN" }, k);
      return (await relayPost(r.body, r.headers["cbo-signature"]!)).status;
    };
    expect([await signedBy(old.key), await signedBy(fresh.key)]).toEqual([200, 200]);
    // A header carrying both signatures (a sender mid-rotation) verifies too.
    const body = JSON.stringify({ worker: "vaulted", target: "us", secret: "RELAY_TOKEN", nonce: randomBytes(8).toString("hex") });
    expect((await relayPost(body, await signPayload(body, [old.key, fresh.key]))).status).toBe(200);
    // The Worker still holds the old key and keeps working meanwhile.
    expect((await relay("us", "RELAY_TOKEN")).body).toMatchObject({ version: 1 });
    expect(await release()).toMatchObject({ status: "succeeded" });
    expect(await api<Array<{ target: string; accepted: number[] }>>("GET", "/v1/keys/workers")).toEqual(
      expect.arrayContaining([expect.objectContaining({ target: "us", accepted: [fresh.version] })]),
    );
    expect([await signedBy(old.key), await signedBy(fresh.key)]).toEqual([401, 200]);
    expect((await relay("us", "RELAY_TOKEN")).body).toMatchObject({ version: 2, hash: sha(VALUES.RELAY_TOKEN[1]!) });
    expect(auditActions()).toContain("key.rotate");
  });
});
