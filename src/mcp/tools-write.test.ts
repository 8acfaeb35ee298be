// The confirmation gate of the mutating tools, over a TEST DOUBLE of the daemon's HTTP answers (a
// fetch that records every request and answers what the contract says the daemon answers);
// test/mcp-server.test.ts runs them against a real daemon and local edge.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { PutSecretBody } from "../contract/index.ts";
import { mcpClient } from "./connect.ts";
import { secretFilesDir } from "./secret-value.ts";
import { configPublish, release, releaseControl, rollback, secretRotate, WRITE_TOOLS } from "./tools-write.ts";

function fakeApi(answers: Record<string, unknown>) {
  const requests: string[] = [];
  const bodies: Record<string, unknown> = {};
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const key = `${init?.method ?? "GET"} ${new URL(String(input)).pathname}`;
    requests.push(key);
    if (typeof init?.body === "string") bodies[key] = JSON.parse(init.body);
    if (!(key in answers)) throw new Error(`unexpected request ${key}`);
    return new Response(JSON.stringify(answers[key]), { status: 200, headers: { "content-type": "application/json" } });
  };
  return { api: mcpClient({ url: "http://daemon", token: "cbo_agent_test", fetch }), requests, bodies };
}

const gate = { probe_path: "/", interval_ms: 200, timeout_ms: 2000, failure_limit: 3, max_error_rate: 0.05, bake_ms: 2000, min_samples: 8 };
const plan = {
  worker: "hello",
  tenant: "default",
  bundleHash: "0".repeat(64),
  waves: [["eu"], ["us"]],
  steps: [10, 100],
  gate,
  targets: [{ name: "eu", accountId: "0".repeat(32), previousVersionId: null, live: [] }],
  actions: [],
  apiCalls: 12,
};
const secret = (name: string, version: number, mode: "binding" | "relay") => ({
  name,
  version,
  mode,
  jurisdictions: [],
  deleted: false,
  updatedAt: "2026-01-01T00:00:00.000Z",
});

describe("mutating tools without confirm: true", () => {
  it("every one takes confirm", () => {
    for (const t of WRITE_TOOLS) expect(Object.keys(t.input.shape)).toContain("confirm");
  });

  it("release reads the plan and changes nothing, with confirm absent or false", async () => {
    for (const confirm of [undefined, false]) {
      const { api, requests } = fakeApi({ "GET /v1/workers/hello/plan": plan });
      const out = await release.run({ worker: "hello", ...(confirm === undefined ? {} : { confirm }) }, { api });
      expect(out.kind).toBe("needs_confirmation");
      expect(requests).toEqual(["GET /v1/workers/hello/plan"]);
    }
  });

  it("rollback and config_publish only read", async () => {
    const { api, requests } = fakeApi({
      "GET /v1/workers/hello/rollback/preview": {
        worker: "hello",
        to: null,
        resolved: "the versions release r1 shipped",
        targets: [],
        skipped: [],
        warnings: [],
        needs: { confirmSecretDowngrade: false, force: false },
      },
      "GET /v1/workers/hello/config/diff": [{ target: "eu", published: null, desired: {}, changed: true, written: null, applied: false }],
    });
    expect((await rollback.run({ worker: "hello" }, { api })).kind).toBe("needs_confirmation");
    expect((await configPublish.run({ worker: "hello" }, { api })).kind).toBe("needs_confirmation");
    expect(requests.every((r) => r.startsWith("GET "))).toBe(true);
  });
});

describe("secret_rotate", () => {
  it("takes no value argument at all, and exactly one of from_file or generate_bytes", async () => {
    expect(secretRotate.input.safeParse({ name: "K", value: "s3cret" }).success).toBe(false);
    const { api, requests } = fakeApi({ "GET /v1/secrets": [secret("K", 1, "relay")] });
    await expect(secretRotate.run({ name: "K" }, { api })).rejects.toMatchObject({ code: "ERR_VALIDATION" });
    await expect(secretRotate.run({ name: "K", from_file: "/f", generate_bytes: 32 }, { api })).rejects.toMatchObject({
      code: "ERR_VALIDATION",
    });
    expect(requests).toEqual([]);
  });

  it("confirmed with a generated value: writes with check-and-set and never returns the value", async () => {
    const { api, bodies } = fakeApi({ "GET /v1/secrets": [secret("K", 4, "binding")], "PUT /v1/secrets/K": { name: "K", version: 5 } });
    const out = await secretRotate.run({ name: "K", generate_bytes: 32, confirm: true }, { api });
    const body = bodies["PUT /v1/secrets/K"] as PutSecretBody;
    expect(body).toMatchObject({ encoding: "base64", cas: 4 });
    const value = Buffer.from(body.value, "base64").toString("utf8");
    expect(value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(JSON.stringify(out)).not.toContain(value);
    expect(JSON.stringify(out)).not.toContain(body.value);
  });

  it("refuses a relative path and a missing secret", async () => {
    const { api } = fakeApi({ "GET /v1/secrets": [] });
    await expect(secretRotate.run({ name: "K", generate_bytes: 32 }, { api })).rejects.toMatchObject({ code: "ERR_NOT_FOUND" });
    const { api: api2 } = fakeApi({ "GET /v1/secrets": [secret("K", 1, "relay")] });
    await expect(secretRotate.run({ name: "K", from_file: "relative/file" }, { api: api2 })).rejects.toMatchObject({
      code: "ERR_VALIDATION",
    });
  });
});

describe("secret_rotate reads files only inside --secret-files", () => {
  const root = mkdtempSync(join(tmpdir(), "mcp-secret-files-"));
  const allowed = join(root, "incoming");
  mkdirSync(allowed);
  const outside = join(root, "outside-key");
  writeFileSync(outside, "OUTSIDE-PLANTED-VALUE", { mode: 0o600 });
  writeFileSync(join(allowed, "new-key"), "INSIDE-PLANTED-VALUE", { mode: 0o600 });
  symlinkSync(outside, join(allowed, "link-out"));
  const dir = secretFilesDir(allowed);
  const answers = () => fakeApi({ "GET /v1/secrets": [secret("K", 1, "relay")], "PUT /v1/secrets/K": { name: "K", version: 2 } });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("without --secret-files, from_file is refused before anything is read or asked", async () => {
    const { api, requests } = answers();
    const refused = secretRotate.run({ name: "K", from_file: outside, confirm: true }, { api });
    await expect(refused).rejects.toMatchObject({ code: "ERR_FORBIDDEN", message: expect.stringContaining("--secret-files") });
    expect(requests).toEqual([]);
  });

  it("a file outside the directory, or a link inside it to one outside, is refused", async () => {
    for (const path of [outside, join(allowed, "link-out"), join(allowed, "..", "outside-key"), allowed]) {
      const { api, requests } = answers();
      await expect(
        secretRotate.run({ name: "K", from_file: path, confirm: true }, { api, secretFilesDir: dir }),
        path,
      ).rejects.toMatchObject({
        code: "ERR_FORBIDDEN",
      });
      expect(requests).toEqual([]);
    }
  });

  it("a file inside it is written, and --secret-files must name a directory", async () => {
    const { api, bodies } = answers();
    const out = await secretRotate.run({ name: "K", from_file: join(allowed, "new-key"), confirm: true }, { api, secretFilesDir: dir });
    expect(out.kind).toBe("done");
    expect(Buffer.from((bodies["PUT /v1/secrets/K"] as PutSecretBody).value, "base64").toString("utf8")).toBe("INSIDE-PLANTED-VALUE");
    expect(() => secretFilesDir(outside)).toThrow(/is not a directory/);
    expect(() => secretFilesDir(join(root, "nope"))).toThrow(/ENOENT/);
  });
});

describe("release_control", () => {
  it("abort, confirmed, sends its reason to the daemon (which puts it on the record)", async () => {
    const aborted = {
      id: "rel_1",
      tenant: "default",
      worker: "hello",
      kind: "release",
      status: "aborted",
      reason: "aborted by agent: wrong build",
      plan: {},
      created_by: "agent",
      created_at: "2026-01-01T00:00:00.000Z",
      updated_at: "2026-01-01T00:00:01.000Z",
    };
    const { api, requests, bodies } = fakeApi({ "POST /v1/releases/rel_1/abort": aborted });
    const out = await releaseControl.run({ release_id: "rel_1", action: "abort", reason: "wrong build", confirm: true }, { api });
    expect(out.kind).toBe("done");
    expect(requests).toEqual(["POST /v1/releases/rel_1/abort"]);
    expect(bodies["POST /v1/releases/rel_1/abort"]).toEqual({ reason: "wrong build" });
  });
});
