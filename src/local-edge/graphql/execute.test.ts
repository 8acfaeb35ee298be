// The GraphQL executor over a real edge store (SQLite file) holding known minutes: grouping,
// minute buckets, Cloudflare's filter operators, ordering, limits, lag, retention and errors.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openEdgeDb, type EdgeDb } from "../state/db.ts";
import { createInvocationStore, type Cell } from "../state/invocations.ts";
import { GraphqlError } from "./errors.ts";
import { executeGraphql, type AccountResolver } from "./execute.ts";
import type { D1QueryRow } from "./storage-datasets.ts";

const ACCT = "a".repeat(32);
const T0 = Date.parse("2026-03-02T10:00:00Z");
const MIN = 60_000;
const NOW = T0 + 10 * MIN;

const cell = (minuteOffset: number, version: string, status: Cell["status"], requests: number, ms: number, subrequests = 0): Cell => ({
  script: version.startsWith("w") ? "web" : "api",
  version,
  minute: T0 + minuteOffset * MIN,
  status,
  requests,
  subrequests,
  wallMs: requests * ms,
  wall: { [ms]: requests },
});

describe("GraphQL workersInvocationsAdaptive over stored minutes", () => {
  let dir: string;
  let db: EdgeDb;
  let lagMs = 0;
  let resolve: AccountResolver;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "cbo-graphql-"));
    db = openEdgeDb(dir);
    const store = createInvocationStore(db);
    store.add(ACCT, [
      cell(0, "w1", "success", 10, 2, 3),
      cell(0, "w2", "success", 4, 9),
      cell(1, "w1", "success", 6, 2),
      cell(1, "w1", "scriptThrewException", 2, 1),
      cell(2, "w2", "exceededResources", 1, 12),
      cell(7, "a1", "success", 5, 3),
    ]);
    // A second drain of the same minute adds to it.
    store.add(ACCT, [cell(0, "w1", "success", 2, 4, 1)]);
    resolve = async (tag, path) => {
      if (tag !== ACCT) throw new GraphqlError("not authorized for that account", 403, path);
      return { coloCode: "FRA", rows: (q) => store.rows({ ...q, accountId: ACCT }), now: NOW, retentionMs: 86_400_000, lagMs };
    };
  });
  afterAll(() => {
    db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = async (query: string, variables: Record<string, unknown> = {}, operationName?: string) =>
    executeGraphql({ query, variables, ...(operationName ? { operationName } : {}) }, resolve);
  const rows = async (args: string, selection: string, variables: Record<string, unknown> = {}) => {
    const out = (await run(
      `query($acct: string!) { viewer { accounts(filter: {accountTag: $acct}) { workersInvocationsAdaptive(${args}) { ${selection} } } } }`,
      { acct: ACCT, ...variables },
    )) as {
      data: { viewer: { accounts: Array<{ workersInvocationsAdaptive: unknown[] }> } };
    };
    return out.data.viewer.accounts[0]!.workersInvocationsAdaptive;
  };
  const failure = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (e) {
      if (e instanceof GraphqlError) return { message: e.message, status: e.status, path: e.path };
      throw e;
    }
    throw new Error("expected a GraphQL error");
  };

  it("groups by minute and version, merging drains of the same minute", async () => {
    expect(
      await rows(
        `limit: 10, filter: {scriptName: "web"}, orderBy: [datetimeMinute_ASC, scriptVersion_ASC]`,
        "sum { requests errors subrequests } dimensions { datetimeMinute scriptVersion }",
      ),
    ).toEqual([
      { sum: { requests: 12, errors: 0, subrequests: 4 }, dimensions: { datetimeMinute: "2026-03-02T10:00:00Z", scriptVersion: "w1" } },
      { sum: { requests: 4, errors: 0, subrequests: 0 }, dimensions: { datetimeMinute: "2026-03-02T10:00:00Z", scriptVersion: "w2" } },
      { sum: { requests: 8, errors: 2, subrequests: 0 }, dimensions: { datetimeMinute: "2026-03-02T10:01:00Z", scriptVersion: "w1" } },
      { sum: { requests: 1, errors: 1, subrequests: 0 }, dimensions: { datetimeMinute: "2026-03-02T10:02:00Z", scriptVersion: "w2" } },
    ]);
  });

  it("with no dimensions answers one row for everything, and wider time buckets fold minutes", async () => {
    expect(await rows("limit: 10", "sum { requests errors }")).toEqual([{ sum: { requests: 30, errors: 3 } }]);
    expect(await rows("limit: 10", "sum { requests } dimensions { datetimeFiveMinutes }")).toEqual([
      { sum: { requests: 25 }, dimensions: { datetimeFiveMinutes: "2026-03-02T10:00:00Z" } },
      { sum: { requests: 5 }, dimensions: { datetimeFiveMinutes: "2026-03-02T10:05:00Z" } },
    ]);
  });

  it("takes minute-aligned datetime_geq/datetime_lt exactly, and counts a partly covered minute whole", async () => {
    const total = async (filter: string) =>
      ((await rows(`limit: 1, filter: ${filter}`, "sum { requests }")) as Array<{ sum: { requests: number } }>)[0]?.sum.requests ?? 0;
    expect(await total(`{datetime_geq: "2026-03-02T10:01:00Z", datetime_lt: "2026-03-02T10:02:00Z"}`)).toBe(8);
    expect(await total(`{datetime_geq: "2026-03-02T10:01:30Z", datetime_leq: "2026-03-02T10:01:31Z"}`)).toBe(8);
    expect(await total(`{datetimeMinute_gt: "2026-03-02T10:00:00Z"}`)).toBe(14);
    expect(await total(`{datetime: "2026-03-02T10:02:59Z"}`)).toBe(1);
    expect(await total(`{date: "2026-03-02"}`)).toBe(30);
  });

  it("filters with Cloudflare's operators, AND and OR", async () => {
    const total = async (filter: string) =>
      ((await rows(`limit: 1, filter: ${filter}`, "sum { requests }")) as Array<{ sum: { requests: number } }>)[0]?.sum.requests ?? 0;
    expect(await total(`{status_neq: "success"}`)).toBe(3);
    expect(await total(`{status_in: ["scriptThrewException", "exceededResources"]}`)).toBe(3);
    expect(await total(`{scriptVersion_notin: ["w1", "w2"]}`)).toBe(5);
    expect(await total(`{scriptName_like: "w%"}`)).toBe(25);
    expect(await total(`{OR: [{scriptName: "api"}, {AND: [{scriptVersion: "w2"}, {status: "exceededResources"}]}]}`)).toBe(6);
    expect(await total(`{coloCode: "FRA"}`)).toBe(30);
  });

  it("orders by a sum (ties by the dimensions) and cuts to the limit", async () => {
    expect(await rows("limit: 2, orderBy: [sum_requests_DESC]", "sum { requests } dimensions { scriptVersion }")).toEqual([
      { sum: { requests: 20 }, dimensions: { scriptVersion: "w1" } },
      { sum: { requests: 5 }, dimensions: { scriptVersion: "a1" } },
    ]);
  });

  it("reads quantiles from the merged histograms (µs), and sums in Cloudflare's units", async () => {
    const [r] = (await rows(
      `limit: 1, filter: {scriptVersion: "w1", status: "success"}`,
      "sum { wallTime duration } quantiles { wallTimeP50 wallTimeP99 cpuTimeP50 durationP99 }",
    )) as Array<{ sum: Record<string, number>; quantiles: Record<string, number> }>;
    // 16 requests of 2 ms and 2 of 4 ms.
    // Duration: seconds at 0.125 GB.
    expect(r!.quantiles).toEqual({ wallTimeP50: 2000, wallTimeP99: 4000, cpuTimeP50: 2000, durationP99: 0.0005 });
    expect(r!.sum).toEqual({ wallTime: 40_000, duration: 0.005 });
  });

  it("follows aliases, fragments, __typename, @skip and declared variable defaults", async () => {
    const out = await run(
      `query Q($acct: string = "${ACCT}", $hide: Boolean = true) { viewer { __typename accounts(filter: {accountTag: $acct}) {
        canary: workersInvocationsAdaptive(limit: 1, filter: {scriptVersion: "a1"}) { ...Totals dimensions @skip(if: $hide) { scriptVersion } }
        d1AnalyticsAdaptiveGroups(limit: 1) { sum { readQueries } } } } }
       fragment Totals on AccountWorkersInvocationsAdaptive { __typename n: sum { requests } }`,
    );
    expect(out).toEqual({
      data: {
        viewer: {
          __typename: "viewer",
          accounts: [{ canary: [{ __typename: "AccountWorkersInvocationsAdaptive", n: { requests: 5 } }], d1AnalyticsAdaptiveGroups: [] }],
        },
      },
      errors: null,
    });
  });

  it("hides minutes that have not aged past an injected lag", async () => {
    lagMs = 4 * MIN;
    try {
      // NOW is 10:10; with 4 minutes of lag the minute of 10:07 (ends 10:08) is not visible yet.
      expect(await rows("limit: 10", "sum { requests }")).toEqual([{ sum: { requests: 25 } }]);
    } finally {
      lagMs = 0;
    }
  });

  it("refuses what Cloudflare refuses, with the path of the offending field", async () => {
    const q = (inner: string) => run(`{ viewer { accounts(filter: {accountTag: "${ACCT}"}) { ${inner} } } }`);
    expect(await failure(q("workersInvocationsAdaptive(limit: 0) { sum { requests } }"))).toMatchObject({
      message: "limit must be positive number and not greater than 10000",
      status: 400,
    });
    expect(await failure(q("workersInvocationsAdaptive(limit: 1, first: 2) { sum { requests } }"))).toMatchObject({
      message: 'error parsing args: unknown argument "first"',
    });
    expect(
      await failure(q(`workersInvocationsAdaptive(limit: 1, filter: {datetime_geq: "2026-02-01T00:00:00Z"}) { sum { requests } }`)),
    ).toMatchObject({ message: "cannot request data older than 86400s" });
    expect(await failure(q(`workersInvocationsAdaptive(limit: 1, filter: {hostname: "x"}) { sum { requests } }`))).toMatchObject({
      message: 'error parsing args: unknown filter field "hostname" (in "hostname")',
    });
    expect(
      await failure(q(`workersInvocationsAdaptive(limit: 1, filter: {datetime_geq: "yesterday"}) { sum { requests } }`)),
    ).toMatchObject({ message: /must be an ISO 8601 time/ });
    // A filter nested 3,000 levels (within the token limit) is a plain refusal, not the parser's stack overflow.
    const deep = Array.from({ length: 3000 }).reduce<string>((inner) => `{AND: [${inner}]}`, '{scriptName: "web"}');
    expect(await failure(q(`workersInvocationsAdaptive(limit: 1, filter: ${deep}) { sum { requests } }`))).toMatchObject({
      message: "query contains error, please review it and retry: the query nests too deeply",
      status: 400,
    });
    expect(await failure(q("workersInvocationsAdaptive(limit: 1) { sum }"))).toMatchObject({
      message: "object field must have selections",
      path: ["viewer", "accounts", 0, "workersInvocationsAdaptive", "sum"],
    });
    expect(await failure(q("workersInvocationsAdaptive(limit: 1) { sum { requests { x } } }"))).toMatchObject({
      message: "scalar fields must have no selections",
    });
    expect(await failure(q("workersInvocationsAdaptive(limit: 1) { sum { clientDisconnects } }"))).toMatchObject({
      message: /does not measure it/,
    });
    expect(await failure(q("workersInvocationsAdaptive(limit: 1, orderBy: [hostname_ASC]) { sum { requests } }"))).toMatchObject({
      message: /cannot order by "hostname"/,
    });
    expect(await failure(q("httpRequestsAdaptiveGroups(limit: 1) { count }"))).toMatchObject({
      message: /unknown field "httpRequestsAdaptiveGroups"/,
    });
    expect(
      await failure(
        run(
          `{ viewer { accounts(filter: {accountTag: "${"b".repeat(32)}"}) { workersInvocationsAdaptive(limit: 1) { sum { requests } } } } }`,
        ),
      ),
    ).toMatchObject({ status: 403 });
    expect(await failure(run("mutation { viewer }"))).toMatchObject({ message: "only queries are supported, not mutations" });
    expect(await failure(run("query A { viewer { __typename } } query B { viewer { __typename } }"))).toMatchObject({
      message: /operationName is required/,
    });
    expect(await run("query A { viewer { __typename } } query B { __typename }", {}, "B")).toEqual({
      data: { __typename: "Query" },
      errors: null,
    });
  });
});

describe("GraphQL d1QueriesAdaptiveGroups (wrangler d1 insights)", () => {
  const rowsOf = (databaseId: string | undefined): D1QueryRow[] =>
    [
      { databaseId: "db-1", query: "SELECT a", count: 4, durationMs: 8, rowsRead: 40, rowsWritten: 0, rowsReturned: 4 },
      { databaseId: "db-1", query: "UPDATE b", count: 1, durationMs: 20, rowsRead: 3, rowsWritten: 3, rowsReturned: 0 },
      { databaseId: "db-2", query: "SELECT c", count: 2, durationMs: 1, rowsRead: 2, rowsWritten: 0, rowsReturned: 2 },
    ].filter((r) => databaseId === undefined || r.databaseId === databaseId);
  let asked: Array<[string | undefined, number, number]> = [];
  const resolve: AccountResolver = async () => ({
    coloCode: "FRA",
    rows: () => [],
    now: NOW,
    retentionMs: 86_400_000,
    lagMs: 0,
    d1Queries: (id, from, to) => {
      asked.push([id, from, to]);
      return rowsOf(id);
    },
  });
  const run = (args: string, selection: string, variables: Record<string, unknown> = {}) =>
    executeGraphql(
      {
        query: `query Q($acct: string, $filter: ZoneWorkersRequestsFilter_InputObject) { viewer { accounts(filter: {accountTag: $acct}) { d1QueriesAdaptiveGroups(${args}) { ${selection} } } } }`,
        variables: { acct: ACCT, ...variables },
      },
      resolve,
    );
  const groups = async (args: string, selection: string, variables: Record<string, unknown> = {}) =>
    ((await run(args, selection, variables)) as { data: { viewer: { accounts: Array<{ d1QueriesAdaptiveGroups: unknown[] }> } } }).data
      .viewer.accounts[0]!.d1QueriesAdaptiveGroups;

  it("answers wrangler's query: sum, avg, count and dimensions, filtered and ordered as asked", async () => {
    asked = [];
    const filter = { AND: [{ datetimeHour_geq: "2026-03-01T10:00:00Z", datetimeHour_leq: "2026-03-02T10:00:00Z", databaseId: "db-1" }] };
    const out = await groups(
      "limit: 5, filter: $filter, orderBy: [sum_queryDurationMs_DESC]",
      "sum { queryDurationMs rowsRead rowsWritten rowsReturned } avg { queryDurationMs rowsRead } count dimensions { query databaseId }",
      { filter },
    );
    expect(asked).toEqual([["db-1", Date.parse("2026-03-01T10:00:00Z"), Date.parse("2026-03-02T10:00:00Z")]]);
    expect(out).toEqual([
      {
        sum: { queryDurationMs: 20, rowsRead: 3, rowsWritten: 3, rowsReturned: 0 },
        avg: { queryDurationMs: 20, rowsRead: 3 },
        count: 1,
        dimensions: { query: "UPDATE b", databaseId: "db-1" },
      },
      {
        sum: { queryDurationMs: 8, rowsRead: 40, rowsWritten: 0, rowsReturned: 4 },
        avg: { queryDurationMs: 2, rowsRead: 10 },
        count: 4,
        dimensions: { query: "SELECT a", databaseId: "db-1" },
      },
    ]);
    // No databaseId: the whole account. count_ASC and avg orderings; limit cuts.
    expect(await groups("limit: 2, orderBy: [count_ASC]", "count dimensions { query }")).toEqual([
      { count: 1, dimensions: { query: "UPDATE b" } },
      { count: 2, dimensions: { query: "SELECT c" } },
    ]);
    expect(asked.at(-1)![0]).toBeUndefined();
    expect(await groups("orderBy: [avg_rowsRead_DESC]", "dimensions { query }")).toEqual([
      { dimensions: { query: "SELECT a" } },
      { dimensions: { query: "UPDATE b" } },
      { dimensions: { query: "SELECT c" } },
    ]);
  });

  it("refuses what Cloudflare's schema does not have, by name", async () => {
    const failure = (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(await failure(groups("orderBy: [sum_bogus_DESC]", "count"))).toMatchObject({ message: /orderBy takes values like count_DESC/ });
    expect(await failure(groups("limit: -1", "count"))).toMatchObject({ message: /limit must be an integer/ });
    expect(await failure(groups("limit: 1", "sum { cpuTime }"))).toMatchObject({ message: /unknown field "cpuTime"/ });
    expect(await failure(groups("limit: 1", "count { x }"))).toMatchObject({ message: "scalar fields must have no selections" });
    expect(await failure(groups('limit: 1, filter: {scriptName: "x"}', "count"))).toMatchObject({ message: /filters by databaseId/ });
  });
});

describe("GraphQL storage datasets (wrangler d1 info, r2 bucket info) check their arguments as d1QueriesAdaptiveGroups does", () => {
  const H = 3_600_000;
  const usage = [
    { hourMs: T0 - 2 * H, readQueries: 5, writeQueries: 1, rowsRead: 50, rowsWritten: 1 },
    { hourMs: T0 - H, readQueries: 1, writeQueries: 7, rowsRead: 2, rowsWritten: 70 },
    { hourMs: T0, readQueries: 3, writeQueries: 0, rowsRead: 9, rowsWritten: 0 },
  ];
  const resolve: AccountResolver = async () => ({
    coloCode: "FRA",
    rows: () => [],
    now: NOW,
    retentionMs: 86_400_000,
    lagMs: 0,
    d1Usage: (id) => (id === "db-1" ? usage : undefined),
    r2Storage: (bucket) => (bucket === "b" ? { objectCount: 2, payloadSize: 10, metadataSize: 1 } : undefined),
  });
  const field = async (dataset: string, args: string, selection: string) => {
    const out = (await executeGraphql(
      { query: `{ viewer { accounts(filter: {accountTag: "${ACCT}"}) { ${dataset}(${args}) { ${selection} } } } }` },
      resolve,
    )) as { data: { viewer: { accounts: Array<Record<string, unknown[]>> } } };
    return out.data.viewer.accounts[0]![dataset];
  };
  const refusal = (p: Promise<unknown>) =>
    p.then(
      () => "answered",
      (e: unknown) => (e instanceof GraphqlError ? `${e.status} ${e.message}` : String(e)),
    );
  const D1 = 'filter: {AND: [{databaseId: "db-1"}]}';
  const hours = "sum { writeQueries } dimensions { datetimeHour }";

  it("answers wrangler's queries, cut to the limit and ordered as asked", async () => {
    expect(await field("d1AnalyticsAdaptiveGroups", `limit: 10000, ${D1}`, hours)).toHaveLength(3);
    expect(await field("d1AnalyticsAdaptiveGroups", `limit: 2, ${D1}`, hours)).toHaveLength(2);
    expect(await field("d1AnalyticsAdaptiveGroups", `limit: 0, ${D1}`, hours)).toEqual([]);
    expect(await field("d1AnalyticsAdaptiveGroups", `limit: 1, ${D1}, orderBy: [sum_writeQueries_DESC]`, hours)).toEqual([
      { sum: { writeQueries: 7 }, dimensions: { datetimeHour: new Date(T0 - H).toISOString().replace(".000", "") } },
    ]);
    expect(
      (await field("d1AnalyticsAdaptiveGroups", `limit: 3, ${D1}, orderBy: [datetimeHour_DESC]`, hours)).map(
        (r) => (r as { sum: { writeQueries: number } }).sum.writeQueries,
      ),
    ).toEqual([0, 7, 1]);
    const r2 = 'limit: 1, filter: {bucketName: "b"}, orderBy: [datetime_DESC]';
    expect(await field("r2StorageAdaptiveGroups", r2, "max { objectCount }")).toEqual([{ max: { objectCount: 2 } }]);
    expect(await field("r2StorageAdaptiveGroups", 'limit: 0, filter: {bucketName: "b"}', "max { objectCount }")).toEqual([]);
    expect(await field("r2OperationsAdaptiveGroups", "limit: 5", "sum { requests }")).toEqual([]);
  });

  it("refuses a negative, fractional or huge limit, unknown arguments and orderings, and non-string ids", async () => {
    const limit = "400 error parsing args: limit must be an integer from 0 to 10000";
    for (const dataset of [
      "d1AnalyticsAdaptiveGroups",
      "r2StorageAdaptiveGroups",
      "r2OperationsAdaptiveGroups",
      "d1QueriesAdaptiveGroups",
    ]) {
      for (const bad of ["-1", "1.5", "10001", '"5"', "-9007199254740993"])
        expect(await refusal(field(dataset, `limit: ${bad}`, "count")), `${dataset} limit ${bad}`).toBe(limit);
      expect(await refusal(field(dataset, "limit: 1, first: 2", "count")), dataset).toBe(
        `400 unknown argument "first" on field "${dataset}"`,
      );
    }
    expect(await refusal(field("d1AnalyticsAdaptiveGroups", `limit: 1, ${D1}, orderBy: [bogus_DESC]`, hours))).toMatch(
      /^400 error parsing args: the local edge's d1AnalyticsAdaptiveGroups orders by datetimeHour_ASC, .*, not "bogus_DESC"$/,
    );
    expect(
      await refusal(field("r2StorageAdaptiveGroups", 'limit: 1, filter: {bucketName: "b"}, orderBy: [1]', "max { objectCount }")),
    ).toMatch(/orders by datetime_ASC, .*, not 1$/);
    expect(await refusal(field("d1AnalyticsAdaptiveGroups", "limit: 1, filter: {databaseId: 5}", hours))).toBe(
      "400 error parsing args: databaseId must be a string",
    );
    expect(await refusal(field("r2StorageAdaptiveGroups", "limit: 1, filter: {bucketName: [1]}", "max { objectCount }"))).toBe(
      "400 error parsing args: bucketName must be a string",
    );
    expect(await refusal(field("r2OperationsAdaptiveGroups", "limit: 1, filter: 3", "sum { requests }"))).toBe(
      "400 error parsing args: filter must be an object",
    );
  });
});
