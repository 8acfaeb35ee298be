// Issue 11, item 6: the local edge answers bad input as Cloudflare does, with its limits and its
// codes, where it used to answer 500 or to accept what Cloudflare refuses: a 5,000-deep binding
// JSON, a bulk read as JSON of a value that is not JSON, script names like `../../etc`, a 110 MB
// bulk write, a 100k-key bulk read, a 10 KB namespace title; and KV's key, value and metadata
// limits. Every refusal is Cloudflare's envelope with a 4xx, and nothing refused is stored.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, apiOk, putScript, uploadForm, type ApiResult } from "./support/api.ts";
import { startTestEdge, type TestEdge } from "./support/edge.ts";
import { workerSource } from "./support/worker-source.ts";

function expectRefused(r: ApiResult, status: number, code: number, what: string): void {
  const where = `${what}: got ${r.status} ${r.text.slice(0, 300)}`;
  expect(r.status, where).toBe(status);
  expect(r.json, where).toMatchObject({ success: false, result: null });
  expect(r.json!.errors[0]!.code, where).toBe(code);
}

/** An upload whose metadata is written as text: deep JSON cannot go through JSON.stringify here. */
function rawUpload(metadata: string): FormData {
  const form = new FormData();
  form.set("metadata", metadata);
  form.set("index.js", new Blob([workerSource("x")], { type: "application/javascript+module" }), "index.js");
  return form;
}

describe("the local edge keeps Cloudflare's limits", () => {
  let t: TestEdge;
  let acct = "";
  let ns = "";
  let kvBase = "";
  beforeAll(async () => {
    t = await startTestEdge({ regions: ["eu"] });
    acct = t.region.accountId;
    ns = (await apiOk<{ id: string }>(t.edge, "POST", `/accounts/${acct}/storage/kv/namespaces`, { json: { title: "limits" } })).id;
    kvBase = `/accounts/${acct}/storage/kv/namespaces/${ns}`;
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it("a 5,000-deep JSON binding (and any over-deep JSON body) is a 400, not a 500; 128 levels are fine", async () => {
    const deep = (n: number) => '{"a":'.repeat(n) + "1" + "}".repeat(n);
    const r = await api(t.edge, "PUT", `/accounts/${acct}/workers/scripts/deep`, {
      body: rawUpload(`{"main_module":"index.js","bindings":[{"type":"json","name":"J","json":${deep(5000)}}]}`),
    });
    expectRefused(r, 400, 10021, "deep json binding");
    expect(r.json!.errors[0]!.message).toContain("deeper than 128");
    expectRefused(await api(t.edge, "GET", `/accounts/${acct}/workers/scripts/deep/settings`), 404, 10007, "nothing was stored");
    const ok = await api(t.edge, "PUT", `/accounts/${acct}/workers/scripts/shallow`, {
      body: rawUpload(`{"main_module":"index.js","bindings":[{"type":"json","name":"J","json":${deep(120)}}]}`),
    });
    expect(ok.status, ok.text).toBe(200);
    const body = await api(t.edge, "PUT", `${kvBase}/bulk`, { body: `[${deep(5000)}]`, headers: { "content-type": "application/json" } });
    expectRefused(body, 400, 10001, "deep bulk body");
    const nul = await api(t.edge, "POST", `/accounts/${acct}/storage/kv/namespaces`, {
      body: "null",
      headers: { "content-type": "application/json" },
    });
    expectRefused(nul, 400, 10001, "a null body");
  });

  it("script names outside Cloudflare's rule are 10016 on every route; valid ones work", async () => {
    for (const name of ["..%2F..%2Fetc", "%3Cimg%20src%3Dx%3E", "Hello", "-dash", "a".repeat(64), "has.dot"]) {
      expectRefused(
        await api(t.edge, "PUT", `/accounts/${acct}/workers/scripts/${name}`, { body: uploadForm({ code: workerSource("x") }) }),
        400,
        10016,
        `PUT ${name}`,
      );
      expectRefused(
        await api(t.edge, "POST", `/accounts/${acct}/workers/scripts/${name}/versions`, { body: uploadForm({ code: workerSource("x") }) }),
        400,
        10016,
        `POST versions ${name}`,
      );
      expectRefused(await api(t.edge, "GET", `/accounts/${acct}/workers/services/${name}`), 400, 10016, `GET services ${name}`);
    }
    const scripts = await apiOk<Array<{ id: string }>>(t.edge, "GET", `/accounts/${acct}/workers/scripts`);
    expect(scripts.map((s) => s.id).sort()).toEqual(["shallow"]);
    await putScript(t.edge, acct, "ok_name-1", { code: workerSource("ok") });
    await putScript(t.edge, acct, "a".repeat(63), { code: workerSource("ok") });
    const bad = await api(t.edge, "PUT", `/accounts/${acct}/workers/scripts/binder`, {
      body: uploadForm({ code: workerSource("x"), bindings: [{ type: "service", name: "S", service: "../../etc" }] }),
    });
    expectRefused(bad, 400, 10021, "a service binding to an invalid name");
  });

  it("bulk/get as JSON of a value that is not JSON is a 400; of JSON, the parsed value", async () => {
    await apiOk(t.edge, "PUT", `${kvBase}/values/plain`, { body: "not json" });
    await apiOk(t.edge, "PUT", `${kvBase}/values/obj`, { body: '{"a":[1,2]}' });
    const bad = await api(t.edge, "POST", `${kvBase}/bulk/get`, { json: { keys: ["obj", "plain"], type: "json" } });
    expectRefused(bad, 400, 10001, "bulk get json of text");
    expect(bad.json!.errors[0]!.message).toContain("non-json value");
    expect(await apiOk(t.edge, "POST", `${kvBase}/bulk/get`, { json: { keys: ["obj"], type: "json" } })).toEqual({
      values: { obj: { a: [1, 2] } },
    });
    expect(await apiOk(t.edge, "POST", `${kvBase}/bulk/get`, { json: { keys: ["plain"] } })).toEqual({ values: { plain: "not json" } });
    expectRefused(
      await api(t.edge, "POST", `${kvBase}/bulk/get`, { json: { keys: ["obj"], type: "xml" } }),
      400,
      10001,
      "bulk get of an unknown type",
    );
  });

  it("bulk reads take 1 to 100 keys, bulk writes and deletes at most 10,000 (code 10012)", async () => {
    const keys = (n: number) => Array.from({ length: n }, (_, i) => `k${i}`);
    expectRefused(await api(t.edge, "POST", `${kvBase}/bulk/get`, { json: { keys: keys(100_000) } }), 400, 10012, "100k-key bulk get");
    expectRefused(await api(t.edge, "POST", `${kvBase}/bulk/get`, { json: { keys: keys(101) } }), 400, 10012, "101-key bulk get");
    expectRefused(await api(t.edge, "POST", `${kvBase}/bulk/get`, { json: { keys: [] } }), 400, 10001, "0-key bulk get");
    expect(
      Object.keys((await apiOk<{ values: object }>(t.edge, "POST", `${kvBase}/bulk/get`, { json: { keys: keys(100) } })).values),
    ).toHaveLength(100);
    const tooMany = await api(t.edge, "PUT", `${kvBase}/bulk`, { json: keys(10_001).map((k) => ({ key: k, value: "v" })) });
    expectRefused(tooMany, 400, 10012, "10,001 pairs");
    expect(tooMany.json!.errors[0]!.message).toBe("received 10001 key/value pairs, but max allowed per request is: 10000");
    expectRefused(await api(t.edge, "POST", `${kvBase}/bulk/delete`, { json: keys(10_001) }), 400, 10012, "10,001 deletes");
    expect(
      await apiOk(t.edge, "PUT", `${kvBase}/bulk`, { json: keys(10_000).map((k) => ({ key: `bulk-${k}`, value: "v" })) }),
    ).toMatchObject({ successful_key_count: 10_000 });
  }, 60_000);

  it("a 110 MB bulk write is a 413 and nothing of it is stored", async () => {
    const big = JSON.stringify([
      { key: "huge-a", value: "x".repeat(55 * 1024 * 1024) },
      { key: "huge-b", value: "y".repeat(55 * 1024 * 1024) },
    ]);
    const r = await api(t.edge, "PUT", `${kvBase}/bulk`, { body: big, headers: { "content-type": "application/json" }, timeoutMs: 60_000 });
    expectRefused(r, 413, 10413, "110 MB bulk write");
    expectRefused(await api(t.edge, "GET", `${kvBase}/values/huge-a`), 404, 10009, "huge-a not stored");
    // The same body streamed without a length is cut off as it arrives.
    const stream = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(big));
        c.close();
      },
    });
    const chunked = await fetch(`${t.edge.apiUrl}${kvBase}/bulk`, {
      method: "PUT",
      body: stream,
      duplex: "half",
      headers: { authorization: `Bearer ${t.edge.token}`, "content-type": "application/json" },
    } as RequestInit);
    expect(chunked.status).toBe(413);
    expect(((await chunked.json()) as { errors: Array<{ code: number }> }).errors[0]!.code).toBe(10413);
  }, 60_000);

  it("namespace titles are 1 to 512 characters; keys, values and metadata keep KV's limits", async () => {
    expectRefused(
      await api(t.edge, "POST", `/accounts/${acct}/storage/kv/namespaces`, { json: { title: "t".repeat(10_000) } }),
      400,
      10001,
      "10 KB title",
    );
    expectRefused(await api(t.edge, "PUT", kvBase, { json: { title: "t".repeat(513) } }), 400, 10001, "rename to 513 characters");
    expect(
      (await apiOk<{ title: string }>(t.edge, "POST", `/accounts/${acct}/storage/kv/namespaces`, { json: { title: "é".repeat(512) } }))
        .title,
    ).toHaveLength(512);
    const titles = (await apiOk<Array<{ title: string }>>(t.edge, "GET", `/accounts/${acct}/storage/kv/namespaces?per_page=100`)).map(
      (n) => n.title.length,
    );
    expect(Math.max(...titles)).toBe(512);

    // (A URL path cannot carry "." or ".." as a key: clients normalise it away. A bulk write can.)
    expectRefused(await api(t.edge, "PUT", `${kvBase}/bulk`, { json: [{ key: "..", value: "v" }] }), 400, 10001, "key ..");
    expectRefused(await api(t.edge, "PUT", `${kvBase}/values/${"k".repeat(513)}`, { body: "v" }), 414, 10001, "513-byte key");
    expectRefused(
      await api(t.edge, "PUT", `${kvBase}/bulk`, { json: [{ key: "m", value: "v", metadata: { pad: "p".repeat(1100) } }] }),
      413,
      10033,
      "metadata over 1024 bytes",
    );
    expectRefused(
      await api(t.edge, "PUT", `${kvBase}/bulk`, {
        json: [
          { key: "ok", value: "v" },
          { key: "k".repeat(513), value: "v" },
        ],
      }),
      414,
      10001,
      "a long key in a bulk write",
    );
    expectRefused(await api(t.edge, "GET", `${kvBase}/values/ok`), 404, 10009, "a bulk write with one bad pair writes none");
  });

  it("expirations keep KV's rules in the KV service's words: a TTL of at least 60 s, a time at least 60 s ahead", async () => {
    const now = Math.floor(Date.now() / 1000);
    const refusal = async (query: string) => {
      const r = await api(t.edge, "PUT", `${kvBase}/values/exp?${query}`, { body: "v" });
      expectRefused(r, 400, 10001, query);
      return r.json!.errors[0]!.message;
    };
    expect(await refusal("expiration_ttl=30")).toBe("Invalid expiration_ttl of 30. Expiration TTL must be at least 60.");
    expect(await refusal("expiration_ttl=0")).toBe("Invalid expiration_ttl of 0. Please specify integer greater than 0.");
    expect(await refusal(`expiration=${now + 10}`)).toBe(
      `Invalid expiration of ${now + 10}. Expiration times must be at least 60 seconds in the future.`,
    );
    expect(await refusal(`expiration=${now - 10}`)).toBe(
      `Invalid expiration of ${now - 10}. Please specify integer greater than the current number of seconds since the UNIX epoch.`,
    );
    expectRefused(
      await api(t.edge, "PUT", `${kvBase}/bulk`, { json: [{ key: "b", value: "v", expiration_ttl: 30 }] }),
      400,
      10001,
      "bulk ttl 30",
    );
    expect((await api(t.edge, "PUT", `${kvBase}/values/exp?expiration_ttl=60`, { body: "v" })).status).toBe(200);
    // A TTL wins over a time, as in the KV service.
    expect((await api(t.edge, "PUT", `${kvBase}/values/both?expiration_ttl=120&expiration=${now + 10}`, { body: "v" })).status).toBe(200);
    const keys = await apiOk<Array<{ name: string; expiration?: number }>>(t.edge, "GET", `${kvBase}/keys`);
    const both = keys.find((k) => k.name === "both")!;
    expect(both.expiration).toBeGreaterThanOrEqual(now + 120);
  });
  it("a var or a secret over 5 KiB (in UTF-8 bytes) is 10054 (text_binding_too_large) at upload and at PUT secrets; the live version stays, the value is never echoed", async () => {
    const script = `/accounts/${acct}/workers/scripts/sized`;
    // 2,561 × "é" is 2,561 characters but 5,122 bytes: the limit is on bytes.
    const big = "é".repeat(2561);
    const up = await api(t.edge, "PUT", script, {
      body: uploadForm({ code: workerSource("x"), bindings: [{ type: "plain_text", name: "BIG", text: big }] }),
    });
    expectRefused(up, 400, 10054, "an over-size var");
    expect(up.json!.errors[0]!.message).toMatch(
      /^workers\.api\.error\.text_binding_too_large: Binding "BIG" \(plain_text\) is 5122 bytes;/,
    );
    expect(up.text).not.toContain("éé");
    expectRefused(await api(t.edge, "GET", `${script}/settings`), 404, 10007, "nothing was stored");

    const atLimit = "x".repeat(5120);
    const live = await putScript(t.edge, acct, "sized", {
      code: workerSource("x"),
      bindings: [
        { type: "plain_text", name: "VAR", text: atLimit },
        { type: "secret_text", name: "KEY", text: atLimit },
      ],
    });
    const secret = "s".repeat(5121);
    const put = await api(t.edge, "PUT", `${script}/secrets`, { json: { name: "TOKEN", text: secret, type: "secret_text" } });
    expectRefused(put, 400, 10054, "an over-size secret");
    expect(put.json!.errors[0]!.message).toContain('Binding "TOKEN" (secret_text) is 5121 bytes');
    expect(put.text).not.toContain("sssss");
    const secrets = await apiOk<Array<{ name: string }>>(t.edge, "GET", `${script}/secrets`);
    expect(secrets.map((x) => x.name)).toEqual(["KEY"]);
    const [deployment] = (
      await apiOk<{ deployments: Array<{ versions: Array<{ version_id: string }> }> }>(t.edge, "GET", `${script}/deployments`)
    ).deployments;
    expect(deployment!.versions.map((v) => v.version_id)).toEqual([live]);
    await apiOk(t.edge, "PUT", `${script}/secrets`, { json: { name: "TOKEN", text: atLimit, type: "secret_text" } });
  });
});
