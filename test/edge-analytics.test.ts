// The local edge counts what Cloudflare counts (requests, errors by invocation status,
// subrequests, wall time) per script, version and minute, and answers Cloudflare's GraphQL
// Analytics API (`workersInvocationsAdaptive`) with the exact counts after a known mix of real
// requests through workerd.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalEdge } from "../src/local-edge/index.ts";
import { api, deployVersions, putScript, uploadVersion } from "./support/api.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { createKeepAliveAgent, hammer, httpGet } from "./support/http.ts";

const WORKER = "canary";

/** Version A: fast; `/throw` throws (Cloudflare's scriptThrewException), `/500` answers 500 itself (a success). */
const VERSION_A = `export default { async fetch(req) {
  const path = new URL(req.url).pathname;
  if (path === "/throw") throw new Error("boom on " + path);
  if (path === "/500") return new Response("handled failure", { status: 500 });
  return new Response("a");
} }`;

/** Version B: waits 30 ms on each request and makes one subrequest to the test's origin. */
const versionB = (origin: string) => `export default { async fetch(req) {
  await new Promise((r) => setTimeout(r, 30));
  await (await fetch(${JSON.stringify(origin)})).text();
  return new Response("b");
} }`;

type Row = { sum?: Record<string, number>; quantiles?: Record<string, number>; dimensions?: Record<string, string> };
type GqlAnswer = {
  status: number;
  body: {
    data: { viewer: { accounts: Array<Record<string, Row[]>> } } | null;
    errors: Array<{ message: string; path?: string[]; extensions: { timestamp: string } }> | null;
  };
};

async function graphql(
  t: Pick<TestEdge, "edge">,
  query: string,
  variables: Record<string, unknown> = {},
  token: string | null = t.edge.token,
): Promise<GqlAnswer> {
  const r = await api(t.edge, "POST", "/graphql", { json: { query, variables }, token });
  return { status: r.status, body: JSON.parse(r.text) };
}

const rowsOf = (a: GqlAnswer, key = "workersInvocationsAdaptive"): Row[] => {
  if (a.status !== 200 || a.body.errors !== null) throw new Error(`GraphQL failed: ${a.status} ${JSON.stringify(a.body)}`);
  return a.body.data!.viewer.accounts[0]![key]!;
};

const BY_VERSION = `query Q($acct: string!, $script: string, $from: Time!, $to: Time!) {
  viewer { accounts(filter: {accountTag: $acct}) {
    workersInvocationsAdaptive(limit: 100, filter: {scriptName: $script, datetime_geq: $from, datetime_lt: $to}, orderBy: [sum_requests_DESC]) {
      sum { requests errors subrequests wallTime duration }
      quantiles { wallTimeP50 wallTimeP99 cpuTimeP50 cpuTimeP99 durationP50 }
      dimensions { scriptName scriptVersion }
    }
  } }
}`;

describe("invocation analytics: GraphQL workersInvocationsAdaptive on the local edge", () => {
  let t: TestEdge;
  let origin: http.Server;
  let originHits = 0;
  let a = "";
  let b = "";
  let from = "";
  let to = "";
  const agent = createKeepAliveAgent(8);
  const pinned = (id: string) => ({ "Cloudflare-Workers-Version-Overrides": `${WORKER}="${id}"` });
  const get = (path: string, headers: Record<string, string> = {}) =>
    httpGet(t.region.port, `${WORKER}.localhost`, { path, headers, agent });

  beforeAll(async () => {
    origin = http.createServer((_req, res) => {
      originHits++;
      res.end("origin");
    });
    await new Promise<void>((r) => origin.listen(0, "127.0.0.1", r));
    t = await startTestEdge({ regions: ["eu"] });
    const acct = t.region.accountId;
    a = await putScript(t.edge, acct, WORKER, { code: VERSION_A });
    b = await uploadVersion(t.edge, acct, WORKER, { code: versionB(`http://127.0.0.1:${(origin.address() as AddressInfo).port}/`) });
    await deployVersions(t.edge, acct, WORKER, [
      { version_id: a, percentage: 50 },
      { version_id: b, percentage: 50 },
    ]);

    // The window starts at the minute the traffic starts and ends after the minute it ends.
    const start = Date.now();
    from = new Date(start - (start % 60_000)).toISOString();
    // Version A: 80 fine, 15 that throw, 5 that answer 500 themselves. Version B: 50 slow ones.
    const plan = [
      ...Array.from({ length: 80 }, () => ["/", a, 200]),
      ...Array.from({ length: 15 }, () => ["/throw", a, 500]),
      ...Array.from({ length: 5 }, () => ["/500", a, 500]),
      ...Array.from({ length: 50 }, () => ["/", b, 200]),
    ] as Array<[string, string, number]>;
    const replies = await hammer(plan.length, 6, (i) => get(plan[i]![0], pinned(plan[i]![1])));
    replies.forEach((r, i) => expect(r.status, `request ${i} (${plan[i]![0]})`).toBe(plan[i]![2]));
    const end = Date.now();
    to = new Date(end - (end % 60_000) + 60_000).toISOString();
  });
  afterAll(async () => {
    agent.destroy();
    await t?.dispose();
    await new Promise((r) => origin?.close(r));
  });

  it("sums requests, errors and subrequests per version exactly", async () => {
    const rows = rowsOf(await graphql(t, BY_VERSION, { acct: t.region.accountId, script: WORKER, from, to }));
    expect(rows.map((r) => [r.dimensions!.scriptVersion, r.sum!.requests, r.sum!.errors, r.sum!.subrequests])).toEqual([
      [a, 100, 15, 0],
      [b, 50, 0, 50],
    ]);
    expect(originHits).toBe(50);
    expect(rows.every((r) => r.dimensions!.scriptName === WORKER)).toBe(true);
  });

  it("reports wall-time quantiles in microseconds, ordered, with the slow version slower", async () => {
    const rows = rowsOf(await graphql(t, BY_VERSION, { acct: t.region.accountId, script: WORKER, from, to }));
    const [qa, qb] = [rows[0]!, rows[1]!];
    for (const r of rows) {
      expect(r.quantiles!.wallTimeP50).toBeLessThanOrEqual(r.quantiles!.wallTimeP99!);
      // CPU time is not visible to the router: it reports the wall time as its upper bound.
      expect(r.quantiles!.cpuTimeP50).toBe(r.quantiles!.wallTimeP50);
      expect(r.quantiles!.durationP50).toBeCloseTo((r.quantiles!.wallTimeP50! / 1e6) * 0.125, 8); // both sides are rounded (µs to 2 places, GB-s to 9)
    }
    expect(qb.quantiles!.wallTimeP50, "30 ms of waiting per request").toBeGreaterThanOrEqual(30_000);
    expect(qa.quantiles!.wallTimeP50).toBeLessThan(qb.quantiles!.wallTimeP50!);
    // Sums: wall time in microseconds, duration in GB-seconds at 128 MB.
    expect(qb.sum!.wallTime).toBeGreaterThanOrEqual(50 * 30_000);
    expect(qb.sum!.duration).toBeCloseTo((qb.sum!.wallTime! / 1e6) * 0.125, 5);
  });

  it("groups by invocation status: a Worker's own 500 is a success, a thrown exception an error", async () => {
    const q = `query($acct: string!, $from: Time!, $to: Time!) { viewer { accounts(filter: {accountTag: $acct}) {
      workersInvocationsAdaptive(limit: 10, filter: {datetime_geq: $from, datetime_lt: $to}) { sum { requests errors } dimensions { scriptVersion status } } } } }`;
    const rows = rowsOf(await graphql(t, q, { acct: t.region.accountId, from, to }));
    const byKey = Object.fromEntries(
      rows.map((r) => [`${r.dimensions!.scriptVersion === a ? "A" : "B"} ${r.dimensions!.status}`, [r.sum!.requests, r.sum!.errors]]),
    );
    expect(byKey).toEqual({ "A success": [85, 0], "A scriptThrewException": [15, 15], "B success": [50, 0] });
  });

  it("filters by scriptVersion (one version, a list, or all but one)", async () => {
    const q = `query($acct: string!, $f: AccountWorkersInvocationsAdaptiveFilter_InputObject) { viewer { accounts(filter: {accountTag: $acct}) {
      workersInvocationsAdaptive(limit: 10, filter: $f) { sum { requests } } } } }`;
    const total = async (f: Record<string, unknown>) =>
      rowsOf(await graphql(t, q, { acct: t.region.accountId, f })).map((r) => r.sum!.requests);
    expect(await total({ scriptVersion: b })).toEqual([50]);
    expect(await total({ scriptVersion_in: [a, b] })).toEqual([150]);
    expect(await total({ AND: [{ scriptName: WORKER }, { scriptVersion_neq: b }] })).toEqual([100]);
    expect(await total({ OR: [{ scriptVersion: a }, { status: "scriptThrewException" }] })).toEqual([100]);
    expect(await total({ scriptName: "no-such-worker" })).toEqual([]);
  });

  it("buckets by minute: datetimeMinute rows are whole minutes inside the window and add up", async () => {
    const q = `query($acct: string!, $from: Time!, $to: Time!) { viewer { accounts(filter: {accountTag: $acct}) {
      perMinute: workersInvocationsAdaptive(limit: 100, filter: {datetime_geq: $from, datetime_lt: $to}, orderBy: [datetimeMinute_ASC]) {
        sum { requests } dimensions { datetimeMinute datetimeHour date } } } } }`;
    const rows = rowsOf(await graphql(t, q, { acct: t.region.accountId, from, to }), "perMinute");
    expect(rows.length).toBeGreaterThanOrEqual(1);
    expect(rows.reduce((n, r) => n + r.sum!.requests!, 0)).toBe(150);
    for (const r of rows) {
      expect(r.dimensions!.datetimeMinute).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:00Z$/);
      expect(Date.parse(r.dimensions!.datetimeMinute!)).toBeGreaterThanOrEqual(Date.parse(from));
      expect(Date.parse(r.dimensions!.datetimeMinute!)).toBeLessThan(Date.parse(to));
      expect(r.dimensions!.datetimeHour).toBe(`${r.dimensions!.datetimeMinute!.slice(0, 13)}:00:00Z`);
      expect(r.dimensions!.date).toBe(r.dimensions!.datetimeMinute!.slice(0, 10));
    }
    // A window that ended before the traffic holds nothing.
    const before = new Date(Date.parse(from) - 3600_000).toISOString();
    expect(rowsOf(await graphql(t, q, { acct: t.region.accountId, from: before, to: from }), "perMinute")).toEqual([]);
  });

  it("answers a bad query like Cloudflare: 400 with data null and an errors array", async () => {
    const unknown = await graphql(
      t,
      `{ viewer { accounts(filter: {accountTag: "${t.region.accountId}"}) { workersInvocationsAdaptive(limit: 1) { sum { requestz } } } } }`,
    );
    expect(unknown.status).toBe(400);
    expect(unknown.body.data).toBeNull();
    expect(unknown.body.errors).toHaveLength(1);
    expect(unknown.body.errors![0]!.message).toMatch(/unknown field "requestz"/);
    expect(unknown.body.errors![0]!.path).toEqual(["viewer", "accounts", "0", "workersInvocationsAdaptive", "sum", "requestz"]);
    expect(Date.parse(unknown.body.errors![0]!.extensions.timestamp)).not.toBeNaN();

    const syntax = await graphql(t, "{ viewer { accounts(filter: ");
    expect(syntax.status).toBe(400);
    expect(syntax.body.errors![0]!.message).toMatch(/^query contains error/);

    const noLimit = await graphql(
      t,
      `{ viewer { accounts(filter: {accountTag: "${t.region.accountId}"}) { workersInvocationsAdaptive { sum { requests } } } } }`,
    );
    expect(noLimit.body.errors![0]!.message).toBe("limit must be positive number and not greater than 10000");

    const old = await graphql(t, BY_VERSION, { acct: t.region.accountId, from: new Date(Date.now() - 8 * 86_400_000).toISOString(), to });
    expect(old.body.errors![0]!.message).toBe("cannot request data older than 604800s");

    const foreign = await graphql(t, BY_VERSION, { acct: "0".repeat(32), from, to });
    expect([foreign.status, foreign.body.errors![0]!.message]).toEqual([403, "not authorized for that account"]);

    const anonymous = await graphql(t, BY_VERSION, { acct: t.region.accountId, from, to }, null);
    expect([anonymous.status, anonymous.body.data, anonymous.body.errors![0]!.message]).toEqual([401, null, "Unauthorized"]);
  });

  it("hides the last minutes under an injected analytics lag, as Cloudflare's aggregation delay does", async () => {
    await t.edge.setFault("eu", { analyticsLagSec: 600 });
    try {
      expect(rowsOf(await graphql(t, BY_VERSION, { acct: t.region.accountId, script: WORKER, from, to }))).toEqual([]);
    } finally {
      await t.edge.setFault("eu", null);
    }
    expect(rowsOf(await graphql(t, BY_VERSION, { acct: t.region.accountId, script: WORKER, from, to }))).toHaveLength(2);
  });

  it("counts cron invocations with their outcome", async () => {
    const acct = t.region.accountId;
    await putScript(t.edge, acct, "cron-job", {
      code: `export default { async scheduled() { throw new Error("cron failed") }, fetch() { return new Response("x") } }`,
    });
    const fired = await fetch(`${t.edge.adminUrl}/trigger/eu/cron-job`, {
      method: "POST",
      headers: { authorization: `Bearer ${t.edge.token}`, "content-type": "application/json" },
      body: JSON.stringify({ cron: "* * * * *" }),
    });
    expect(fired.status, await fired.text()).toBe(200);
    const q = `query($acct: string!) { viewer { accounts(filter: {accountTag: $acct}) {
      workersInvocationsAdaptive(limit: 10, filter: {scriptName: "cron-job"}) { sum { requests errors } dimensions { status } } } } }`;
    expect(rowsOf(await graphql(t, q, { acct }))).toEqual([
      { sum: { requests: 1, errors: 1 }, dimensions: { status: "scriptThrewException" } },
    ]);
  });

  it("keeps the counts across a restart (the routers are drained when the edge stops)", async () => {
    // Served just before the stop: only the final drain can have stored it.
    expect((await get("/", pinned(a))).status).toBe(200);
    await t.edge.close();
    const again = await startLocalEdge({ dataDir: t.dataDir, regions: ["eu"] });
    try {
      const rows = rowsOf(
        await graphql({ edge: again }, BY_VERSION, {
          acct: t.region.accountId,
          script: WORKER,
          from,
          to: new Date(Date.parse(to) + 120_000).toISOString(),
        }),
      );
      expect(rows.map((r) => [r.dimensions!.scriptVersion, r.sum!.requests])).toEqual([
        [a, 101],
        [b, 50],
      ]);
    } finally {
      await again.close();
    }
  });
});

describe("invocation analytics turned off", () => {
  it("counts nothing, and the Worker serves as before", async () => {
    const dataDir = await makeTempDir("edge-noanalytics");
    const edge = await startLocalEdge({ dataDir, regions: ["eu"], analytics: false });
    try {
      const region = edge.regions[0]!;
      await putScript(edge, region.accountId, "quiet", { code: `export default { fetch() { return new Response("ok") } }` });
      const replies = await hammer(20, 4, () => httpGet(region.port, "quiet.localhost"));
      expect(replies.map((r) => r.status)).toEqual(new Array(20).fill(200));
      const q = `query($acct: string!) { viewer { accounts(filter: {accountTag: $acct}) { workersInvocationsAdaptive(limit: 10) { sum { requests } } } } }`;
      expect(rowsOf(await graphql({ edge }, q, { acct: region.accountId }))).toEqual([]);
    } finally {
      await edge.close();
    }
  });
});
