// The official `cloudflare` SDK (7.3.0) against the local edge: its list iterators must see every
// item and stop, and the calls the orchestrator makes (through its own typed client at run time,
// src/cloudflare) work through the SDK too, so that users' SDK code runs unchanged. Each loop runs under a request budget, so a server that ignores `page` (which
// sends the SDK into an endless loop) fails the test instead of hanging it.
import Cloudflare, { AuthenticationError, BadRequestError, NotFoundError, PermissionDeniedError } from "cloudflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKvNamespace, deployVersions, putScript, uploadVersion } from "./support/api.ts";
import { startTestEdge, type TestEdge } from "./support/edge.ts";
import { workerSource } from "./support/worker-source.ts";

const WORKER = "sdk-worker";
const VERSIONS = 12;
const NAMESPACES = 30;
const TUNNELS = 5;
const MAX_REQUESTS = 50;

describe("cloudflare SDK 7.3.0 against the local edge", () => {
  let t: TestEdge;
  let client: Cloudflare;
  let acct = "";
  const versionIds: string[] = [];
  const deploymentIds: string[] = [];
  const namespaceIds: string[] = [];
  const tunnelIds: string[] = [];

  /** Drains an SDK iterator, failing once it has cost more than MAX_REQUESTS API calls. */
  async function drain<T>(iterable: AsyncIterable<T>): Promise<{ items: T[]; requests: number }> {
    const start = t.edge.apiRequestCount(acct);
    const items: T[] = [];
    for await (const item of iterable) {
      items.push(item);
      const used = t.edge.apiRequestCount(acct) - start;
      if (used > MAX_REQUESTS) throw new Error(`pagination did not end: ${used} requests, ${items.length} items so far`);
    }
    return { items, requests: t.edge.apiRequestCount(acct) - start };
  }

  beforeAll(async () => {
    t = await startTestEdge({ regions: ["eu"] });
    acct = t.region.accountId;
    client = new Cloudflare({ baseURL: t.edge.apiUrl, apiToken: t.edge.token, maxRetries: 0, timeout: 20_000 });

    versionIds.push(await putScript(t.edge, acct, WORKER, { code: workerSource("sdk-1") }));
    for (let i = 2; i <= VERSIONS; i++) {
      versionIds.push(await uploadVersion(t.edge, acct, WORKER, { code: workerSource(`sdk-${i}`) }));
    }
    for (const [a, b] of [
      [3, 100],
      [7, 100],
    ] as const) {
      deploymentIds.push((await deployVersions(t.edge, acct, WORKER, [{ version_id: versionIds[a]!, percentage: b }])).id);
    }
    const split = await deployVersions(t.edge, acct, WORKER, [
      { version_id: versionIds[10]!, percentage: 70 },
      { version_id: versionIds[11]!, percentage: 30 },
    ]);
    deploymentIds.push(split.id);

    for (let i = 0; i < NAMESPACES; i++) namespaceIds.push(await createKvNamespace(t.edge, acct, `ns-${String(i).padStart(2, "0")}`));
    for (let i = 0; i < TUNNELS; i++) {
      const tunnel = await client.zeroTrust.tunnels.cloudflared.create({ account_id: acct, name: `tun-${i}`, config_src: "cloudflare" });
      tunnelIds.push(tunnel.id!);
    }
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it("versions.list pages through every version and stops", async () => {
    const { items, requests } = await drain(client.workers.scripts.versions.list(WORKER, { account_id: acct, per_page: 5 }));
    const ids = items.map((v) => v.id!);
    expect(new Set(ids).size, "no version repeated across pages").toBe(ids.length);
    expect([...ids].sort()).toEqual([...versionIds].sort());
    // 12 versions at 5 per page: pages 1..3 plus the empty page 4 that ends the loop.
    expect(requests).toBeGreaterThanOrEqual(3);

    const all = await drain(client.workers.scripts.versions.list(WORKER, { account_id: acct }));
    expect(all.items.map((v) => v.id!).sort()).toEqual([...versionIds].sort());
  });

  it("versions.get returns one version with its resources", async () => {
    const v = await client.workers.scripts.versions.get(versionIds[5]!, { account_id: acct, script_name: WORKER });
    expect(v.id).toBe(versionIds[5]);
    expect(v.resources?.script_runtime?.compatibility_date).toBe("2025-01-01");
  });

  it("deployments.list returns every deployment, the live one first", async () => {
    const page = await client.workers.scripts.deployments.list(WORKER, { account_id: acct });
    const { deployments } = page.result as unknown as {
      deployments: { id: string; versions: { version_id: string; percentage: number }[] }[];
    };
    // The first upload (PUT script) deployed too, so there is one more than the explicit ones.
    expect(deployments.length).toBeGreaterThanOrEqual(deploymentIds.length);
    for (const id of deploymentIds) expect(deployments.map((d) => d.id)).toContain(id);
    expect(deployments[0]!.id).toBe(deploymentIds.at(-1));
    expect(deployments[0]!.versions).toEqual(
      expect.arrayContaining([
        { version_id: versionIds[10], percentage: 70 },
        { version_id: versionIds[11], percentage: 30 },
      ]),
    );
    // Iterating the same list (its items live under `deployments`, not `items`) must also end.
    await drain(client.workers.scripts.deployments.list(WORKER, { account_id: acct }));
  });

  it("kv.namespaces.list pages through all 30 namespaces and stops", async () => {
    const { items, requests } = await drain(client.kv.namespaces.list({ account_id: acct, per_page: 7 }));
    const ids = items.map((n) => n.id);
    expect(new Set(ids).size, "no namespace repeated across pages").toBe(ids.length);
    expect([...ids].sort()).toEqual([...namespaceIds].sort());
    // 30 at 7 per page: 5 pages with items, then an empty one.
    expect(requests).toBeGreaterThanOrEqual(5);

    const byDefault = await drain(client.kv.namespaces.list({ account_id: acct }));
    expect(byDefault.items.map((n) => n.id).sort()).toEqual([...namespaceIds].sort());
  });

  it("kv.namespaces.list honours order=title&direction=desc across pages", async () => {
    const sorted = await drain(client.kv.namespaces.list({ account_id: acct, per_page: 10, order: "title", direction: "desc" }));
    expect(sorted.items.map((n) => n.title)).toEqual(
      Array.from({ length: NAMESPACES }, (_, i) => `ns-${String(NAMESPACES - 1 - i).padStart(2, "0")}`),
    );
  });

  it("zeroTrust.tunnels.cloudflared.list pages through the tunnels and stops", async () => {
    const { items, requests } = await drain(
      client.zeroTrust.tunnels.cloudflared.list({ account_id: acct, per_page: 2, is_deleted: false }),
    );
    expect(items.map((x) => x.id).sort()).toEqual([...tunnelIds].sort());
    expect(requests).toBeGreaterThanOrEqual(3);

    const named = await drain(client.zeroTrust.tunnels.cloudflared.list({ account_id: acct, name: "tun-3", is_deleted: false }));
    expect(named.items.map((x) => x.name)).toEqual(["tun-3"]);
  });

  it("scriptAndVersionSettings.edit: SDK 7's bracket-encoded form is refused, not answered 200 with nothing changed", async () => {
    // Its own Worker, deployed at 100% (WORKER is mid-split, where settings edits are refused with 10214).
    const name = "sdk-settings";
    await putScript(t.edge, acct, name, { code: workerSource("settings") });
    const refused = await client.workers.scripts.scriptAndVersionSettings
      .edit(name, { account_id: acct, settings: { logpush: true } })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(BadRequestError);
    expect((refused as BadRequestError).errors[0]).toMatchObject({ code: 10021, message: expect.stringContaining("settings") });
    expect((await client.workers.scripts.scriptAndVersionSettings.get(name, { account_id: acct })).logpush).toBe(false);
    // The form wrangler sends (one JSON `settings` part), through the SDK's raw call, applies.
    const form = new FormData();
    form.append("settings", JSON.stringify({ logpush: true }));
    await client.patch(`/accounts/${acct}/workers/scripts/${name}/settings`, { body: form });
    expect((await client.workers.scripts.scriptAndVersionSettings.get(name, { account_id: acct })).logpush).toBe(true);
  });

  it("r2.buckets.list: a page cut at per_page carries a cursor, and the cursor reaches every bucket once", async () => {
    const names = ["sdk-b-1", "sdk-b-2", "sdk-b-3", "sdk-b-4", "sdk-b-5"];
    for (const name of names) await client.r2.buckets.create({ account_id: acct, name });
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 10; i++) {
      // The SDK unwraps `result` only, so the raw answer gives the page's result_info.
      const res = await client.r2.buckets
        .list({ account_id: acct, name_contains: "sdk-b-", per_page: 2, ...(cursor ? { cursor } : {}) })
        .asResponse();
      const body = (await res.json()) as { result: { buckets: { name: string }[] }; result_info?: { cursor?: string; per_page?: number } };
      expect(body.result_info?.per_page).toBe(2);
      seen.push(...body.result.buckets.map((b) => b.name));
      cursor = body.result_info?.cursor;
      if (!cursor) break;
    }
    expect(seen).toEqual(names);
    const bad = await client.r2.buckets.list({ account_id: acct, cursor: "not-a-cursor" }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(BadRequestError);
  });

  it("d1.database: list pages end on an empty page; edit and update set read replication; query and raw parse", async () => {
    const made: string[] = [];
    for (const i of [1, 2, 3]) made.push((await client.d1.database.create({ account_id: acct, name: `sdk-db-${i}` })).uuid!);
    const { items, requests } = await drain(client.d1.database.list({ account_id: acct, per_page: 2 }));
    expect(items.map((d) => d.uuid)).toEqual(made);
    expect(requests).toBe(3); // 2 + 1 + the empty page
    const id = made[0]!;
    expect((await client.d1.database.edit(id, { account_id: acct, read_replication: { mode: "auto" } })).read_replication).toEqual({
      mode: "auto",
    });
    expect((await client.d1.database.get(id, { account_id: acct })).read_replication).toEqual({ mode: "auto" });
    await client.d1.database.update(id, { account_id: acct, read_replication: { mode: "disabled" } });
    expect((await client.d1.database.get(id, { account_id: acct })).read_replication).toEqual({ mode: "disabled" });
    const bad = await client.d1.database
      .update(id, { account_id: acct, read_replication: { mode: "sometimes" as "auto" } })
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(BadRequestError);
    expect((bad as BadRequestError).errors[0]).toMatchObject({ code: 7400 });

    const [created, selected] = (
      await drain(
        client.d1.database.query(id, {
          account_id: acct,
          sql: "CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (1), (2); SELECT a FROM t",
        }),
      )
    ).items.slice(1);
    expect(created?.meta?.changes).toBe(2);
    expect(selected?.results).toEqual([{ a: 1 }, { a: 2 }]);
    const raw = (await drain(client.d1.database.raw(id, { account_id: acct, sql: "SELECT a FROM t WHERE a > ?", params: ["1"] }))).items;
    expect(raw.map((r) => r.results)).toEqual([{ columns: ["a"], rows: [[2]] }]);
    const missing = await client.d1.database.get("00000000-0000-0000-0000-000000000000", { account_id: acct }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect((missing as NotFoundError).errors[0]).toMatchObject({ code: 7404 });
  });

  it("workers.scripts.list filters by ?tags=tag:yes,tag:no, the tags script-settings set", async () => {
    await putScript(t.edge, acct, "sdk-tagged", { code: workerSource("tagged") });
    await client.workers.scripts.settings.edit("sdk-tagged", { account_id: acct, tags: ["team-a"] });
    const names = async (tags: string) => (await drain(client.workers.scripts.list({ account_id: acct, tags }))).items.map((x) => x.id);
    expect(await names("team-a:yes")).toEqual(["sdk-tagged"]);
    expect(await names("team-a:no")).not.toContain("sdk-tagged");
    expect(await names("team-a:no")).toContain(WORKER);
    expect(await client.workers.scripts.list({ account_id: acct, tags: "team-a:maybe" }).catch((e: unknown) => e)).toBeInstanceOf(
      BadRequestError,
    );
  });

  it("workers.accountSettings: get the defaults, update, read back; a bad value is a 400", async () => {
    expect(await client.workers.accountSettings.get({ account_id: acct })).toEqual({
      default_usage_model: "standard",
      green_compute: false,
    });
    expect(await client.workers.accountSettings.update({ account_id: acct, green_compute: true })).toEqual({
      default_usage_model: "standard",
      green_compute: true,
    });
    expect((await client.workers.accountSettings.get({ account_id: acct })).green_compute).toBe(true);
    const bad = await client.workers.accountSettings
      .update({ account_id: acct, default_usage_model: "free-lunch" })
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(BadRequestError);
    expect((await client.workers.accountSettings.get({ account_id: acct })).default_usage_model).toBe("standard");
  });

  it("zones.list pages a name lookup and stops; workers.routes lists a zone's routes", async () => {
    // /zones is not under an account, so drain's request budget does not see it: cap the items instead.
    const items = [];
    for await (const z of client.zones.list({ name: "example.com" })) {
      items.push(z);
      if (items.length > 5) throw new Error("zones.list did not end: the same zone came back page after page");
    }
    expect(items.map((z) => [z.name, z.account?.id])).toEqual([["example.com", acct]]);
    const zone = items[0]!.id;
    await client.workers.routes.create({ zone_id: zone, pattern: "sdk.example.com/*", script: WORKER });
    const routes = await client.workers.routes.list({ zone_id: zone });
    expect(routes.result.map((r) => [r.pattern, r.script])).toEqual([["sdk.example.com/*", WORKER]]);
    expect((routes as unknown as { body: { result_info: { count: number } } }).body.result_info.count).toBe(1);
  });

  it("errors arrive as typed SDK errors carrying Cloudflare's codes", async () => {
    const missing = await client.workers.scripts.versions.list("no-such-worker", { account_id: acct }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect((missing as NotFoundError).errors[0]).toMatchObject({ code: 10007 });

    const stranger = new Cloudflare({ baseURL: t.edge.apiUrl, apiToken: "not-the-token", maxRetries: 0, timeout: 20_000 });
    const denied = await drain(stranger.kv.namespaces.list({ account_id: acct })).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(AuthenticationError);
    expect((denied as AuthenticationError).errors[0]).toMatchObject({ code: 10000 });

    // An account id the token does not reach: Cloudflare's 403 with 10000, on every service.
    const elsewhere = { account_id: "f".repeat(32) };
    for (const call of [
      () => client.workers.scripts.settings.get(WORKER, elsewhere),
      () => drain(client.kv.namespaces.list(elsewhere)),
      () => drain(client.d1.database.list(elsewhere)),
      () => client.r2.buckets.list(elsewhere),
    ]) {
      const foreign = await call().catch((e: unknown) => e);
      expect(foreign).toBeInstanceOf(PermissionDeniedError);
      expect((foreign as PermissionDeniedError).errors).toEqual([{ code: 10000, message: "Authentication error" }]);
    }
  });
  it("queues.messages: push / bulkPush, pull with leases, ack, retry, and the dead-letter queue after max_retries", async () => {
    const q = await client.queues.create({ account_id: acct, queue_name: "sdk-pull" });
    const dlq = await client.queues.create({ account_id: acct, queue_name: "sdk-pull-dlq" });
    const Q = { account_id: acct };
    const refusal = async (p: Promise<unknown>) => {
      const e = await p.catch((x: unknown) => x);
      expect(e).toBeInstanceOf(BadRequestError);
      return (e as BadRequestError).errors[0]!.code;
    };
    // No pull consumer yet: Cloudflare's HTTP pull has to be switched on first.
    expect(await refusal(client.queues.messages.pull(q.queue_id!, { ...Q, batch_size: 1 }))).toBe(11010);
    await client.queues.consumers.create(q.queue_id!, {
      ...Q,
      type: "http_pull",
      dead_letter_queue: "sdk-pull-dlq",
      settings: { max_retries: 1 },
    } as Parameters<typeof client.queues.consumers.create>[1]);
    await client.queues.consumers.create(dlq.queue_id!, { ...Q, type: "http_pull" } as Parameters<
      typeof client.queues.consumers.create
    >[1]);

    await client.queues.messages.push(q.queue_id!, { ...Q, body: { n: 1 } });
    await client.queues.messages.bulkPush(q.queue_id!, {
      ...Q,
      messages: [
        { body: "two", content_type: "text" },
        { body: { n: 3 }, content_type: "json" },
      ],
    });
    expect(await refusal(client.queues.messages.push(q.queue_id!, { ...Q, body: 4, content_type: "v8" } as never))).toBe(11011);
    expect(await refusal(client.queues.messages.push(q.queue_id!, { ...Q, body: { not: "text" }, content_type: "text" } as never))).toBe(
      11011,
    );

    // Sizes as the producer binding's: 128 KB a message, 288 KB a batch; a refused batch queues nothing.
    const big = "x".repeat(100_000);
    const tooHeavy = await client.queues.messages
      .bulkPush(q.queue_id!, { ...Q, messages: [1, 2, 3].map(() => ({ body: big, content_type: "text" as const })) })
      .catch((e: unknown) => e);
    expect((tooHeavy as { status?: number }).status).toBe(413);
    const first = await client.queues.messages.pull(q.queue_id!, { ...Q, batch_size: 2, visibility_timeout_ms: 60_000 });
    expect(first.messages!.map((m) => [m.body, m.attempts])).toEqual([
      ['{"n":1}', 1],
      ["two", 1],
    ]);
    expect(first.message_backlog_count).toBe(3);
    // Leased messages are not handed out twice.
    const second = await client.queues.messages.pull(q.queue_id!, { ...Q, batch_size: 10 });
    expect(second.messages!.map((m) => m.body)).toEqual(['{"n":3}']);

    const [one, two] = first.messages!;
    const acked = await client.queues.messages.ack(q.queue_id!, {
      ...Q,
      acks: [{ lease_id: one!.lease_id! }, { lease_id: "not-a-lease" }],
      retries: [{ lease_id: two!.lease_id!, delay_seconds: 0 }],
    });
    expect(acked).toMatchObject({ ackCount: 1, retryCount: 1 });
    expect(Object.keys(acked.warnings!)).toEqual(["not-a-lease"]);

    // "two" comes back for its second (and last) attempt; retried again, it goes to the dead-letter queue.
    const again = await client.queues.messages.pull(q.queue_id!, { ...Q, batch_size: 10 });
    expect(again.messages!.map((m) => [m.body, m.attempts])).toEqual([["two", 2]]);
    await client.queues.messages.ack(q.queue_id!, { ...Q, retries: [{ lease_id: again.messages![0]!.lease_id! }] });
    expect((await client.queues.messages.pull(q.queue_id!, { ...Q, batch_size: 10 })).messages).toEqual([]);
    const dead = await client.queues.messages.pull(dlq.queue_id!, { ...Q, batch_size: 10 });
    expect(dead.messages!.map((m) => m.body)).toEqual(["two"]);
    // An ack with a lease that is no longer held changes nothing.
    expect(await client.queues.messages.ack(q.queue_id!, { ...Q, acks: [{ lease_id: two!.lease_id! }] })).toMatchObject({ ackCount: 0 });
  });

  it("the orchestrator's calls, made through the SDK: whoami, scripts, deployments, secrets, KV, tunnels", async () => {
    expect(await client.user.tokens.verify()).toMatchObject({ status: "active" });
    expect((await drain(client.accounts.list())).items.map((a) => a.id)).toContain(acct);
    const memberships = (await drain(client.memberships.list())).items;
    expect(memberships.map((m) => m.account?.id)).toContain(acct);
    expect((await client.memberships.get(memberships[0]!.id!)).account?.id).toBe(memberships[0]!.account?.id);
    expect(await client.memberships.get("m-nope").catch((e: unknown) => e)).toBeInstanceOf(NotFoundError);
    expect((await client.workers.subdomains.get({ account_id: acct })).subdomain).toBe(t.region.subdomain);

    // A Worker deployed at 100% by its first upload, so that secrets may change.
    const name = "sdk-calls";
    const first = await putScript(t.edge, acct, name, { code: workerSource("calls-1") });
    expect((await drain(client.workers.scripts.list({ account_id: acct }))).items.map((x) => x.id)).toContain(name);
    await client.workers.scripts.secrets.update(name, { account_id: acct, name: "ONE", text: "1", type: "secret_text" });
    await client.workers.scripts.secrets.bulkUpdate(
      name,
      { account_id: acct, secrets: { TWO: { name: "TWO", text: "2", type: "secret_text" } } },
      { headers: { "content-type": "application/merge-patch+json" } },
    );
    await client.workers.scripts.secrets.delete("ONE", { account_id: acct, script_name: name, url_encoded: true });
    expect((await drain(client.workers.scripts.secrets.list(name, { account_id: acct }))).items.map((x) => x.name)).toEqual(["TWO"]);
    // Back to the first version, from before the secrets: refused (10220) unless forced, as the
    // orchestrator's rollbacks do.
    const back = { account_id: acct, strategy: "percentage" as const, versions: [{ version_id: first, percentage: 100 }] };
    const refused = await client.workers.scripts.deployments.create(name, back).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(BadRequestError);
    expect((refused as BadRequestError).errors[0]).toMatchObject({ code: 10220 });
    const deployment = await client.workers.scripts.deployments.create(name, {
      ...back,
      force: true,
      annotations: { "workers/message": "back" },
    });
    expect(deployment.versions).toEqual([{ version_id: first, percentage: 100 }]);
    await client.workers.scripts.delete(name, { account_id: acct, force: true });
    expect((await drain(client.workers.scripts.list({ account_id: acct }))).items.map((x) => x.id)).not.toContain(name);

    const ns = await client.kv.namespaces.create({ account_id: acct, title: "sdk-calls" });
    await client.kv.namespaces.bulkUpdate(ns.id, {
      account_id: acct,
      body: [
        { key: "a", value: "1" },
        { key: "b", value: "2" },
        { key: "c", value: "3" },
      ],
    });
    await client.kv.namespaces.bulkDelete(ns.id, { account_id: acct, body: ["b"] });
    expect((await drain(client.kv.namespaces.keys.list(ns.id, { account_id: acct, limit: 1 }))).items.map((k) => k.name)).toEqual([
      "a",
      "c",
    ]);
    await client.kv.namespaces.delete(ns.id, { account_id: acct });

    const tunnel = await client.zeroTrust.tunnels.cloudflared.create({ account_id: acct, name: "sdk-calls", config_src: "cloudflare" });
    const ingress = [{ hostname: "x.example.com", service: "http://127.0.0.1:8700" }, { service: "http_status:404" }] as Array<{
      hostname: string;
      service: string;
    }>;
    const config = await client.zeroTrust.tunnels.cloudflared.configurations.update(tunnel.id!, { account_id: acct, config: { ingress } });
    expect(config.config?.ingress?.map((r) => r.service)).toEqual(["http://127.0.0.1:8700", "http_status:404"]);
    expect(typeof (await client.zeroTrust.tunnels.cloudflared.token.get(tunnel.id!, { account_id: acct }))).toBe("string");
    await client.zeroTrust.tunnels.cloudflared.delete(tunnel.id!, { account_id: acct });
  });
});
