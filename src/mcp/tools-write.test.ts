// The confirmation gate of the mutating tools, over a TEST DOUBLE of the daemon's API that records
// every request (test/mcp-server.test.ts runs them against a real daemon and local edge).
import { describe, expect, it } from "vitest";
import type * as z from "zod";
import type { DaemonApi } from "./daemon-api.ts";
import { configPublish, release, rollback, secretRotate, WRITE_TOOLS } from "./tools-write.ts";

function fakeApi(answers: Record<string, unknown>): DaemonApi & { requests: string[] } {
  const requests: string[] = [];
  const answer = <S extends z.ZodType>(key: string, schema: S) => {
    requests.push(key);
    if (!(key in answers)) throw new Error(`unexpected request ${key}`);
    return Promise.resolve(schema.parse(answers[key]));
  };
  return {
    url: "http://daemon",
    requests,
    get: (_tool, path, schema) => answer(`GET ${path}`, schema),
    send: (_tool, method, path, schema) => answer(`${method} ${path}`, schema),
  };
}

const plan = { worker: "hello", waves: [["eu"], ["us"]], steps: [10, 100], targets: [{ name: "eu", previousVersionId: null, live: [] }], apiCalls: 12 };

describe("mutating tools without confirm: true", () => {
  it("every one takes confirm", () => {
    for (const t of WRITE_TOOLS) expect(Object.keys(t.input.shape)).toContain("confirm");
  });

  it("release reads the plan and changes nothing, with confirm absent or false", async () => {
    for (const confirm of [undefined, false]) {
      const api = fakeApi({ "GET /v1/workers/hello/plan": plan });
      const out = await release.run({ worker: "hello", ...(confirm === undefined ? {} : { confirm }) }, { api });
      expect(out.kind).toBe("needs_confirmation");
      expect(api.requests).toEqual(["GET /v1/workers/hello/plan"]);
    }
  });

  it("rollback and config_publish only read", async () => {
    const api = fakeApi({ "GET /v1/workers/hello/versions": [{ target: "eu", versionId: "v2", live: true }], "GET /v1/workers/hello/config/diff": [{ target: "eu", changed: true, published: null }] });
    expect((await rollback.run({ worker: "hello" }, { api })).kind).toBe("needs_confirmation");
    expect((await configPublish.run({ worker: "hello" }, { api })).kind).toBe("needs_confirmation");
    expect(api.requests.every((r) => r.startsWith("GET "))).toBe(true);
  });
});

describe("secret_rotate", () => {
  it("takes no value argument at all, and exactly one of from_file or generate_bytes", async () => {
    expect(secretRotate.input.safeParse({ name: "K", value: "s3cret" }).success).toBe(false);
    const api = fakeApi({ "GET /v1/secrets": [{ name: "K", version: 1, mode: "relay" }] });
    await expect(secretRotate.run({ name: "K" }, { api })).rejects.toMatchObject({ code: "ERR_VALIDATION" });
    await expect(secretRotate.run({ name: "K", from_file: "/f", generate_bytes: 32 }, { api })).rejects.toMatchObject({ code: "ERR_VALIDATION" });
    expect(api.requests).toEqual([]);
  });

  it("confirmed with a generated value: writes with check-and-set and never returns the value", async () => {
    const api = fakeApi({ "GET /v1/secrets": [{ name: "K", version: 4, mode: "binding" }], "PUT /v1/secrets/K": { name: "K", version: 5 } });
    let body: any;
    const send = api.send;
    api.send = (tool, method, path, schema, b) => ((body = b), send(tool, method, path, schema, b));
    const out = await secretRotate.run({ name: "K", generate_bytes: 32, confirm: true }, { api });
    expect(body).toMatchObject({ encoding: "base64", cas: 4 });
    const value = Buffer.from(body.value, "base64").toString("utf8");
    expect(value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(JSON.stringify(out)).not.toContain(value);
    expect(JSON.stringify(out)).not.toContain(body.value);
  });

  it("refuses a relative path and a missing secret", async () => {
    const api = fakeApi({ "GET /v1/secrets": [] });
    await expect(secretRotate.run({ name: "K", generate_bytes: 32 }, { api })).rejects.toMatchObject({ code: "ERR_NOT_FOUND" });
    const api2 = fakeApi({ "GET /v1/secrets": [{ name: "K", version: 1, mode: "relay" }] });
    await expect(secretRotate.run({ name: "K", from_file: "relative/file" }, { api: api2 })).rejects.toMatchObject({ code: "ERR_VALIDATION" });
  });
});
