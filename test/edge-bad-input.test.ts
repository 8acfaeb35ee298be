// Bad input to the local edge API gets Cloudflare's error envelope with a fitting code and a 4xx
// status: never a 500, a hang, a non-JSON body or a crash, and the edge keeps working afterwards.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, apiOk, putScript, uploadForm, uploadVersion, type ApiResult } from "./support/api.ts";
import { startTestEdge, type TestEdge } from "./support/edge.ts";
import { createKeepAliveAgent, getWorker } from "./support/http.ts";
import { workerSource } from "./support/worker-source.ts";

const WORKER = "steady";

/** Asserts the Cloudflare failure envelope; `codes` lists the acceptable error codes (any >= 1000 when omitted). */
function expectCfError(r: ApiResult, want: { status?: number[]; codes?: number[] }, what: string): void {
  const where = `${what}: got ${r.status} ${r.contentType} ${r.text.slice(0, 500)}`;
  expect(r.status, where).toBeGreaterThanOrEqual(400);
  expect(r.status, where).toBeLessThan(500);
  if (want.status) expect(want.status, where).toContain(r.status);
  expect(r.contentType, where).toMatch(/^application\/json/);
  expect(r.json, where).toEqual({
    success: false,
    errors: expect.arrayContaining([expect.objectContaining({ code: expect.any(Number), message: expect.any(String) })]),
    messages: [],
    result: null,
  });
  const code = r.json!.errors[0]!.code;
  expect(code, where).toBeGreaterThanOrEqual(1000);
  expect(r.json!.errors[0]!.message.length, where).toBeGreaterThan(0);
  if (want.codes) expect(want.codes, where).toContain(code);
}

/** Any code in Cloudflare's Workers range 10000..10999. */
const WORKERS_CODES = Array.from({ length: 1000 }, (_, i) => 10000 + i);

describe("bad input gets Cloudflare's error envelope", () => {
  let t: TestEdge;
  let acct = "";
  let base = "";
  let goodVersion = "";
  /** Uploaded, never deployed: the second version the percentage cases split over. */
  let spareVersion = "";
  let liveDeployment = "";
  const agent = createKeepAliveAgent(4);

  beforeAll(async () => {
    t = await startTestEdge({ regions: ["eu"] });
    acct = t.region.accountId;
    base = `/accounts/${acct}/workers/scripts/${WORKER}`;
    goodVersion = await putScript(t.edge, acct, WORKER, { code: workerSource("steady") });
    spareVersion = await uploadVersion(t.edge, acct, WORKER, { code: workerSource("spare") });
    const d = await apiOk<{ deployments: { id: string }[] }>(t.edge, "GET", `${base}/deployments`);
    liveDeployment = d.deployments[0]!.id;
  });
  afterAll(async () => {
    agent.destroy();
    await t?.dispose();
  });

  it("unknown script: 404 with code 10007", async () => {
    for (const path of ["/versions", "/deployments", "/secrets", "/settings"]) {
      const r = await api(t.edge, "GET", `/accounts/${acct}/workers/scripts/no-such-worker${path}`);
      expectCfError(r, { status: [404], codes: [10007] }, `GET unknown script ${path}`);
    }
    const del = await api(t.edge, "DELETE", `/accounts/${acct}/workers/scripts/no-such-worker/secrets/X?url_encoded=true`);
    expectCfError(del, { status: [404], codes: [10007] }, "DELETE secret of unknown script");
  });

  it("unknown version: 404", async () => {
    const r = await api(t.edge, "GET", `${base}/versions/00000000-0000-4000-8000-000000000000`);
    expectCfError(r, { status: [404] }, "GET unknown version");
  });

  it("wrong or missing token: 401/403 with code 10000", async () => {
    const wrong = await api(t.edge, "GET", `${base}/versions`, { token: "not-the-token" });
    expectCfError(wrong, { status: [401, 403], codes: [10000] }, "wrong token");
    const none = await api(t.edge, "GET", `/accounts/${acct}/storage/kv/namespaces`, { token: null });
    expectCfError(none, { status: [401, 403] }, "no Authorization header");
    const wrongUpload = await api(t.edge, "POST", `${base}/versions`, {
      token: "not-the-token",
      body: uploadForm({ code: workerSource("x") }),
    });
    expectCfError(wrongUpload, { status: [401, 403], codes: [10000] }, "upload with wrong token");
  });

  it("unknown route: 404 with code 7003 or 7000", async () => {
    for (const [method, path] of [
      ["GET", "/no/such/route"],
      ["GET", `/accounts/${acct}/workers/no-such-thing`],
      ["POST", `/accounts/${acct}/storage/kv/frobnicate`],
      // Not an account id at all (32 hex digits are; a well-formed unknown one is 403, sdk.test.ts).
      ["GET", "/accounts/not-an-account/workers/scripts"],
    ] as const) {
      const r = await api(t.edge, method, path, method === "POST" ? { json: {} } : {});
      expectCfError(r, { status: [404], codes: [7003, 7000] }, `${method} ${path}`);
    }
  });

  it("malformed multipart upload: 400 with a 100xx code", async () => {
    const garbage = await api(t.edge, "POST", `${base}/versions`, {
      body: "this is not multipart at all",
      headers: { "content-type": "multipart/form-data; boundary=----nope" },
    });
    expectCfError(garbage, { status: [400], codes: WORKERS_CODES }, "garbage body with a multipart content-type");

    const truncated = await api(t.edge, "POST", `${base}/versions`, {
      body: '------b\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n{"main_module":"index.js"',
      headers: { "content-type": "multipart/form-data; boundary=----b" },
    });
    expectCfError(truncated, { status: [400], codes: WORKERS_CODES }, "truncated multipart body");

    const json = await api(t.edge, "POST", `${base}/versions`, { json: { main_module: "index.js" } });
    expectCfError(json, { status: [400, 415], codes: WORKERS_CODES }, "JSON body instead of multipart");

    const noMetadata = new FormData();
    noMetadata.set("index.js", new Blob([workerSource("x")], { type: "application/javascript+module" }), "index.js");
    expectCfError(
      await api(t.edge, "POST", `${base}/versions`, { body: noMetadata }),
      { status: [400], codes: WORKERS_CODES },
      "no metadata part",
    );

    const badMetadata = uploadForm({ code: workerSource("x") });
    badMetadata.set("metadata", "{not json");
    expectCfError(
      await api(t.edge, "POST", `${base}/versions`, { body: badMetadata }),
      { status: [400], codes: WORKERS_CODES },
      "metadata is not JSON",
    );

    const putGarbage = await api(t.edge, "PUT", `/accounts/${acct}/workers/scripts/fresh-worker`, {
      body: "still not multipart",
      headers: { "content-type": "multipart/form-data; boundary=xyz" },
    });
    expectCfError(putGarbage, { status: [400], codes: WORKERS_CODES }, "PUT script with garbage multipart");
  });

  it("missing main module: 400 with a 100xx code", async () => {
    const r = await api(t.edge, "POST", `${base}/versions`, { body: uploadForm({ code: workerSource("x"), mainModule: "missing.js" }) });
    expectCfError(r, { status: [400], codes: WORKERS_CODES }, "main_module names no part");
    const put = await api(t.edge, "PUT", `/accounts/${acct}/workers/scripts/fresh-worker`, {
      body: uploadForm({ code: workerSource("x"), mainModule: "missing.js" }),
    });
    expectCfError(put, { status: [400], codes: WORKERS_CODES }, "PUT script whose main_module names no part");
  });

  it("a module that does not compile is refused, and does not take the region down", async () => {
    const r = await api(t.edge, "POST", `${base}/versions`, { body: uploadForm({ code: "export default { fetch( {" }) });
    expectCfError(r, { status: [400], codes: WORKERS_CODES }, "module with a syntax error");
    const put = await api(t.edge, "PUT", `/accounts/${acct}/workers/scripts/broken-worker`, {
      body: uploadForm({ code: "export default {{{" }),
    });
    expectCfError(put, { status: [400], codes: WORKERS_CODES }, "PUT script with a syntax error");
    expect(await getWorker(t.region.port, WORKER, { agent })).toMatchObject({ v: "steady" });
  });

  it("deployment percentages that do not add up to 100: 400", async () => {
    const deploy = (body: unknown) => api(t.edge, "POST", `${base}/deployments`, { json: body });
    const cases: [string, unknown][] = [
      [
        "50 + 40",
        {
          strategy: "percentage",
          versions: [
            { version_id: goodVersion, percentage: 50 },
            { version_id: spareVersion, percentage: 40 },
          ],
        },
      ],
      [
        "60 + 60",
        {
          strategy: "percentage",
          versions: [
            { version_id: goodVersion, percentage: 60 },
            { version_id: spareVersion, percentage: 60 },
          ],
        },
      ],
      ["90 alone", { strategy: "percentage", versions: [{ version_id: goodVersion, percentage: 90 }] }],
      [
        "110 and -10",
        {
          strategy: "percentage",
          versions: [
            { version_id: goodVersion, percentage: 110 },
            { version_id: spareVersion, percentage: -10 },
          ],
        },
      ],
      ["no versions", { strategy: "percentage", versions: [] }],
      ["percentage as a string", { strategy: "percentage", versions: [{ version_id: goodVersion, percentage: "100" }] }],
    ];
    for (const [what, body] of cases) expectCfError(await deploy(body), { status: [400] }, `deployment with ${what}`);

    const unknown = await deploy({
      strategy: "percentage",
      versions: [{ version_id: "00000000-0000-4000-8000-000000000000", percentage: 100 }],
    });
    expectCfError(unknown, { status: [400, 404] }, "deployment of an unknown version");
    const notJson = await api(t.edge, "POST", `${base}/deployments`, { body: "{oops", headers: { "content-type": "application/json" } });
    expectCfError(notJson, { status: [400] }, "deployment body that is not JSON");

    // None of that changed what is live.
    const d = await apiOk<{ deployments: { id: string }[] }>(t.edge, "GET", `${base}/deployments`);
    expect(d.deployments[0]!.id).toBe(liveDeployment);
  });

  it("bad KV and secret input: 4xx envelope", async () => {
    const ns = await api(t.edge, "GET", `/accounts/${acct}/storage/kv/namespaces/ffffffffffffffffffffffffffffffff/values/k`);
    expectCfError(ns, { status: [404] }, "value in an unknown namespace");
    const noTitle = await api(t.edge, "POST", `/accounts/${acct}/storage/kv/namespaces`, { json: {} });
    expectCfError(noTitle, { status: [400] }, "namespace without a title");
    const badSecret = await api(t.edge, "PUT", `${base}/secrets`, { json: { type: "secret_text" } });
    expectCfError(badSecret, { status: [400] }, "secret without a name");
  });

  it("after all that, the edge still answers normally", async () => {
    expect(await getWorker(t.region.port, WORKER, { agent })).toMatchObject({ v: "steady" });
    // The refused uploads left no versions behind.
    const versions = await apiOk<{ items: { id: string }[] }>(t.edge, "GET", `${base}/versions`);
    expect(versions.items.map((v) => v.id).sort()).toEqual([goodVersion, spareVersion].sort());
    const v2 = await apiOk<{ id: string }>(t.edge, "POST", `${base}/versions`, { body: uploadForm({ code: workerSource("steady-2") }) });
    await apiOk(t.edge, "POST", `${base}/deployments`, {
      json: { strategy: "percentage", versions: [{ version_id: v2.id, percentage: 100 }] },
    });
    await expect.poll(async () => (await getWorker(t.region.port, WORKER, { agent })).v, { timeout: 10_000 }).toBe("steady-2");
  });
});
