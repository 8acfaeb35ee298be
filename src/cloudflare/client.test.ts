// The client's wiring (our calls over the transport, error mapping, paging, raw KV and uploads) against a
// small scripted HTTP peer on loopback. It stands in for api.cloudflare.com, which cannot be
// reached here; test/cloudflare-client.test.ts runs the same client against the real local edge.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { CboError } from "../kit/errors.ts";
import { createRequestBudget } from "./budget.ts";
import { createCloudflareClient } from "./client.ts";
import type { TransportRequestInfo } from "./transport.ts";
import type { WorkerUpload } from "./upload.ts";

type Seen = { method: string; path: string; query: URLSearchParams; headers: http.IncomingHttpHeaders; body: Buffer };
type Reply = { status?: number; json?: unknown; text?: string; headers?: Record<string, string> };
type Route = (req: Seen) => Reply | undefined;

const ACCOUNT = "0123456789abcdef0123456789abcdef";
const TOKEN = "tok-under-test";
const ok = (result: unknown, extra: Record<string, unknown> = {}): Reply => ({
  json: { success: true, errors: [], messages: [], result, ...extra },
});
const fail = (status: number, code: number, message: string): Reply => ({
  status,
  json: { success: false, errors: [{ code, message }], messages: [], result: null },
});

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((s) => {
      s.closeAllConnections();
      return new Promise((r) => s.close(r));
    }),
  );
});

async function peer(route: Route) {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://x");
      const s: Seen = {
        method: req.method ?? "",
        path: url.pathname.replace(/^\/client\/v4/, ""),
        query: url.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      seen.push(s);
      const reply = route(s) ?? fail(404, 7003, `Could not route to ${s.path}`);
      res.writeHead(reply.status ?? 200, {
        "content-type": reply.text === undefined ? "application/json" : "text/plain",
        ...reply.headers,
      });
      res.end(reply.text ?? JSON.stringify(reply.json));
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return { seen, baseUrl: `http://127.0.0.1:${port}/client/v4` };
}

function clientFor(baseUrl: string, extra: Partial<Parameters<typeof createCloudflareClient>[0]> = {}) {
  const requests: TransportRequestInfo[] = [];
  const client = createCloudflareClient({
    baseUrl,
    apiToken: TOKEN,
    accountId: ACCOUNT,
    budget: createRequestBudget({ limit: 1000, windowMs: 1000 }),
    baseDelayMs: 1,
    maxDelayMs: 5,
    onRequest: (i) => requests.push(i),
    ...extra,
  });
  return { client, requests };
}

async function caught(p: Promise<unknown>): Promise<CboError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(CboError);
  return e as CboError;
}

const upload: WorkerUpload = {
  mainModule: "index.js",
  modules: [{ name: "index.js", content: "export default { fetch() { return new Response('hi') } }" }],
  compatibilityDate: "2025-01-01",
};

const scripts = `/accounts/${ACCOUNT}/workers/scripts`;

describe("Cloudflare client", () => {
  it("surfaces the 10215 refusal of a secret change with Cloudflare's code in details", async () => {
    const { seen, baseUrl } = await peer((r) =>
      r.method === "PUT" && r.path === `${scripts}/w/secrets`
        ? fail(
            400,
            10215,
            "Secret edit failed. You attempted to modify a secret, but the latest version of your Worker isn't currently deployed.",
          )
        : undefined,
    );
    const { client } = clientFor(baseUrl);
    const err = await caught(client.putSecret("w", "API_KEY", "s3cret"));
    expect(err.code).toBe("ERR_CF_REQUEST");
    expect(err.message).toMatch(/^Cloudflare API error 10215: Secret edit failed/);
    expect(err.details).toMatchObject({
      status: 400,
      method: "PUT",
      path: `${scripts}/w/secrets`,
      attempts: 1,
      cloudflareErrors: [{ code: 10215 }],
    });
    expect(JSON.parse(seen[0]!.body.toString())).toEqual({ name: "API_KEY", text: "s3cret", type: "secret_text" });
    expect(seen[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(JSON.stringify(err.toJSON())).not.toContain(TOKEN);
  });

  it("validates percentages before sending anything", async () => {
    const { seen, baseUrl } = await peer(() => ok({}));
    const { client } = clientFor(baseUrl);
    for (const bad of [
      [
        { versionId: "a", percentage: 60 },
        { versionId: "b", percentage: 30 },
      ],
      [
        { versionId: "a", percentage: 120 },
        { versionId: "b", percentage: -20 },
      ],
      [
        { versionId: "a", percentage: 50 },
        { versionId: "a", percentage: 50 },
      ],
      [],
    ]) {
      expect((await caught(client.createDeployment("w", bad))).code).toBe("ERR_VALIDATION");
    }
    expect(seen).toHaveLength(0);
  });

  it("sends a split deployment as wrangler does", async () => {
    const deployment = {
      id: "d1",
      strategy: "percentage",
      versions: [
        { version_id: "a", percentage: 33.3 },
        { version_id: "b", percentage: 66.7 },
      ],
    };
    const { seen, baseUrl } = await peer((r) =>
      r.method === "POST" && r.path === `${scripts}/w/deployments` ? ok(deployment) : undefined,
    );
    const { client } = clientFor(baseUrl);
    const result = await client.createDeployment(
      "w",
      [
        { versionId: "a", percentage: 33.3 },
        { versionId: "b", percentage: 66.7 },
      ],
      { message: "split", force: true },
    );
    expect(result.versions).toEqual(deployment.versions);
    expect(seen[0]!.query.get("force")).toBe("true");
    expect(JSON.parse(seen[0]!.body.toString())).toEqual({
      strategy: "percentage",
      versions: deployment.versions,
      annotations: { "workers/message": "split" },
    });
  });

  it("deploys a new script with the first-deploy PUT after versions answers 10007", async () => {
    const { seen, baseUrl } = await peer((r) => {
      if (r.method === "POST" && r.path === `${scripts}/new/versions`)
        return fail(404, 10007, "This Worker does not exist on your account.");
      if (r.method === "PUT" && r.path === `${scripts}/new`) return ok({ id: "new", deployment_id: "v1", startup_time_ms: 1 });
      if (r.method === "GET" && r.path === `${scripts}/new/deployments`)
        return ok({ deployments: [{ id: "d1", versions: [{ version_id: "v1", percentage: 100 }] }] });
      return undefined;
    });
    const { client } = clientFor(baseUrl);
    const result = await client.deploy("new", upload);
    expect(result).toMatchObject({ versionId: "v1", created: true, deployment: { id: "d1" } });
    expect(seen.map((s) => `${s.method} ${s.path}`)).toEqual([
      `POST ${scripts}/new/versions`,
      `PUT ${scripts}/new`,
      `GET ${scripts}/new/deployments`,
    ]);
    expect(seen[0]!.query.get("bindings_inherit")).toBe("strict");
    expect(seen[1]!.query.get("excludeScript")).toBe("true");
    const form = await new Response(seen[1]!.body, { headers: { "content-type": seen[1]!.headers["content-type"]! } }).formData();
    expect(JSON.parse(form.get("metadata") as string)).toMatchObject({ main_module: "index.js" });
    expect((form.get("index.js") as File).type).toBe("application/javascript+module");
  });

  it("deploys an existing script as a version plus a 100% deployment", async () => {
    const { seen, baseUrl } = await peer((r) => {
      if (r.method === "POST" && r.path === `${scripts}/w/versions`) return ok({ id: "v2", number: 2 });
      if (r.method === "POST" && r.path === `${scripts}/w/deployments`)
        return ok({ id: "d2", versions: [{ version_id: "v2", percentage: 100 }] });
      return undefined;
    });
    const { client } = clientFor(baseUrl);
    expect(await client.deploy("w", upload)).toMatchObject({ versionId: "v2", created: false, deployment: { id: "d2" } });
    expect(seen).toHaveLength(2);
  });

  it("pages lists to the empty page", async () => {
    const all = Array.from({ length: 5 }, (_, i) => ({ id: `ns${i}`, title: `t${i}` }));
    const { seen, baseUrl } = await peer((r) => {
      if (r.path !== `/accounts/${ACCOUNT}/storage/kv/namespaces`) return undefined;
      const page = Number(r.query.get("page") ?? 1);
      return ok(all.slice((page - 1) * 2, page * 2), { result_info: { page, per_page: 2, total_count: 5 } });
    });
    const { client } = clientFor(baseUrl);
    expect((await client.listKvNamespaces()).map((n) => n.id)).toEqual(["ns0", "ns1", "ns2", "ns3", "ns4"]);
    expect(seen.map((s) => s.query.get("page"))).toEqual([null, "2", "3", "4"]);
  });

  it("stops at result_info.total_pages without asking for an empty page (as wrangler pages)", async () => {
    const all = Array.from({ length: 5 }, (_, i) => ({ id: `ns${i}`, title: `t${i}` }));
    const { seen, baseUrl } = await peer((r) => {
      if (r.path !== `/accounts/${ACCOUNT}/storage/kv/namespaces`) return undefined;
      const page = Number(r.query.get("page") ?? 1);
      return ok(all.slice((page - 1) * 2, page * 2), { result_info: { page, per_page: 2, total_count: 5, total_pages: 3 } });
    });
    const { client } = clientFor(baseUrl);
    expect((await client.listKvNamespaces()).map((n) => n.id)).toEqual(["ns0", "ns1", "ns2", "ns3", "ns4"]);
    expect(seen.map((s) => s.query.get("page"))).toEqual([null, "2", "3"]);
  });

  it("pages Worker versions through result.items, and refuses a list result that is not a list", async () => {
    const all = Array.from({ length: 3 }, (_, i) => ({ id: `v${i}`, number: 3 - i }));
    const { seen, baseUrl } = await peer((r) => {
      if (r.path === `${scripts}/w/versions`) {
        const page = Number(r.query.get("page") ?? 1);
        return ok({ items: all.slice((page - 1) * 2, page * 2) }, { result_info: { page, per_page: 2 } });
      }
      if (r.path === `${scripts}/w/secrets`) return ok({ name: "not a list" });
      return undefined;
    });
    const { client } = clientFor(baseUrl);
    expect((await client.listVersions("w", { deployable: true })).map((v) => v.id)).toEqual(["v0", "v1", "v2"]);
    expect(seen.map((s) => [s.query.get("page"), s.query.get("deployable")])).toEqual([
      [null, "true"],
      ["2", "true"],
      ["3", "true"],
    ]);
    const err = await caught(client.listSecrets("w"));
    expect(err.code).toBe("ERR_CF_RESPONSE");
    expect(err.message).toMatch(/not an array/);
  });

  it("stops a list whose server ignores `page` instead of looping forever", async () => {
    const { seen, baseUrl } = await peer((r) => (r.path === "/accounts" ? ok([{ id: ACCOUNT, name: "a" }]) : undefined));
    const { client } = clientFor(baseUrl);
    const err = await caught(client.listAccounts());
    expect(err.code).toBe("ERR_CF_RESPONSE");
    expect(seen.length).toBe(2);
  });

  it("follows KV key cursors", async () => {
    const { seen, baseUrl } = await peer((r) => {
      if (!r.path.endsWith("/keys")) return undefined;
      const cursor = r.query.get("cursor");
      return cursor === "c1"
        ? ok([{ name: "b" }], { result_info: { count: 1, cursor: "" } })
        : ok([{ name: "a", metadata: { m: 1 } }], { result_info: { count: 1, cursor: "c1" } });
    });
    const { client } = clientFor(baseUrl);
    expect(await client.listKvKeys("ns", { prefix: "" })).toEqual([{ name: "a", metadata: { m: 1 } }, { name: "b" }]);
    expect(seen).toHaveLength(2);
  });

  it("writes KV values raw (or multipart with metadata) and reads raw bytes, null when missing", async () => {
    const store = new Map<string, Buffer>();
    const { seen, baseUrl } = await peer((r) => {
      const m = /\/values\/(.+)$/.exec(r.path);
      if (!m) return undefined;
      const key = decodeURIComponent(m[1]!);
      if (r.method === "PUT") {
        store.set(key, r.body);
        return ok({});
      }
      if (r.method === "GET") {
        const v = store.get(key);
        return v === undefined
          ? fail(404, 10009, "get: 'key not found'")
          : { text: v.toString("latin1"), headers: { "content-type": "application/octet-stream" } };
      }
      return undefined;
    });
    const { client } = clientFor(baseUrl);
    await client.putKvValue("ns", "dir/k", "hello", { expirationTtl: 120 });
    expect(seen[0]!.path).toBe(`/accounts/${ACCOUNT}/storage/kv/namespaces/ns/values/dir%2Fk`);
    expect(seen[0]!.query.get("expiration_ttl")).toBe("120");
    expect(seen[0]!.headers["content-type"]).toBe("text/plain;charset=UTF-8");
    expect(await client.getKvText("ns", "dir/k")).toBe("hello");
    expect(await client.getKvValue("ns", "missing")).toBeNull();
    await client.putKvValue("ns", "m", "v", { metadata: { owner: "me" } });
    const put = seen.find((s) => s.method === "PUT" && s.path.endsWith("/values/m"))!;
    const form = await new Response(put.body, { headers: { "content-type": put.headers["content-type"]! } }).formData();
    expect(form.get("value")).toBe("v");
    expect(JSON.parse(form.get("metadata") as string)).toEqual({ owner: "me" });
  });

  it("maps rate limiting that outlasts the retries to ERR_CF_RATE_LIMITED", async () => {
    const { seen, baseUrl } = await peer(() => ({
      ...fail(429, 971, "Please wait and consider throttling your request speed"),
      headers: { "retry-after": "0" },
    }));
    const { client } = clientFor(baseUrl, { maxRetries: 2 });
    const err = await caught(client.listSecrets("w"));
    expect(err.code).toBe("ERR_CF_RATE_LIMITED");
    expect(err.details).toMatchObject({ status: 429, attempts: 3, cloudflareErrors: [{ code: 971 }] });
    expect(seen).toHaveLength(3);
  });

  it("surfaces a budget refusal as ERR_CF_BUDGET", async () => {
    const { baseUrl } = await peer(() => ok([]));
    const { client } = clientFor(baseUrl, { budget: createRequestBudget({ limit: 1, windowMs: 60_000, maxWaitMs: 0 }) });
    await client.listSecrets("w");
    expect((await caught(client.listSecrets("w"))).code).toBe("ERR_CF_BUDGET");
  });

  it("answers ERR_CF_RESPONSE to a body that is not JSON or not the documented shape", async () => {
    const { baseUrl } = await peer((r) => {
      if (r.path.endsWith("/deployments")) return { text: "<html>oops</html>" };
      if (r.path.endsWith("/subdomain")) return ok({ name: "no subdomain field" });
      return undefined;
    });
    const { client } = clientFor(baseUrl);
    expect((await caught(client.listDeployments("w"))).code).toBe("ERR_CF_RESPONSE");
    const shape = await caught(client.getSubdomain());
    expect(shape.code).toBe("ERR_CF_RESPONSE");
    expect(shape.message).toMatch(/subdomain/);
  });

  it("finds the account when the token sees exactly one, and refuses to guess otherwise", async () => {
    let accounts = [{ id: ACCOUNT, name: "only" }];
    const { seen, baseUrl } = await peer((r) => {
      if (r.path === "/accounts") return ok(Number(r.query.get("page") ?? 1) === 1 ? accounts : []);
      if (r.path === `/accounts/${ACCOUNT}/workers/subdomain`) return ok({ subdomain: "sub" });
      return undefined;
    });
    const single = createCloudflareClient({ baseUrl, apiToken: TOKEN, budget: createRequestBudget() });
    expect(await single.getSubdomain()).toBe("sub");
    expect(await single.accountId()).toBe(ACCOUNT);
    expect(seen.filter((s) => s.path === "/accounts")).toHaveLength(2); // first page + empty page, once
    accounts = [accounts[0]!, { id: "f".repeat(32), name: "second" }];
    const multi = createCloudflareClient({ baseUrl, apiToken: TOKEN, budget: createRequestBudget() });
    expect((await caught(multi.getSubdomain())).code).toBe("ERR_VALIDATION");
    expect(await multi.forAccount(ACCOUNT).getSubdomain()).toBe("sub");
  });

  it("rolls back to the newest earlier deployment at 100%", async () => {
    const deployments = [
      { id: "d3", created_on: "2025-01-03T00:00:00Z", versions: [{ version_id: "v3", percentage: 100 }] },
      {
        id: "d2",
        created_on: "2025-01-02T00:00:00Z",
        versions: [
          { version_id: "v2", percentage: 50 },
          { version_id: "v1", percentage: 50 },
        ],
      },
      { id: "d1", created_on: "2025-01-01T00:00:00Z", versions: [{ version_id: "v1", percentage: 100 }] },
    ];
    const { seen, baseUrl } = await peer((r) => {
      if (r.method === "GET" && r.path === `${scripts}/w/deployments`) return ok({ deployments });
      if (r.method === "POST" && r.path === `${scripts}/w/deployments`)
        return ok({ id: "d4", versions: [{ version_id: "v1", percentage: 100 }] });
      return undefined;
    });
    const { client } = clientFor(baseUrl);
    await client.rollback("w");
    expect(JSON.parse(seen[1]!.body.toString())).toMatchObject({
      versions: [{ version_id: "v1", percentage: 100 }],
      annotations: { "workers/message": "Rollback" },
    });
  });

  it("sends bulk secrets as a merge patch", async () => {
    const { seen, baseUrl } = await peer((r) => (r.method === "PATCH" && r.path === `${scripts}/w/secrets-bulk` ? ok(null) : undefined));
    const { client } = clientFor(baseUrl);
    await client.bulkSecrets("w", { A: "1", B: null });
    expect(seen[0]!.headers["content-type"]).toBe("application/merge-patch+json");
    expect(JSON.parse(seen[0]!.body.toString())).toEqual({ secrets: { A: { name: "A", text: "1", type: "secret_text" }, B: null } });
  });
});
