// The daemon's REST API on real HTTP (127.0.0.1) over a real SQLite store, with the engine's test
// double (see test/support/api-fixtures.ts). Every refusal must leave the store as it was.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CboError } from "../src/kit/errors.ts";
import {
  EventSchema,
  ReleaseSchema,
  type ControlResult,
  type ErrorBody,
  type Page,
  type Release,
  type ReleaseControl,
  type ReleaseDetail,
  type Status,
  type TargetSummary,
  type VersionEntry,
} from "../src/contract/index.ts";
import { call, startApiFixture, type ApiFixture, type Refusal, type ValidationIssues } from "./support/api-fixtures.ts";

let f: ApiFixture;
beforeAll(async () => {
  f = await startApiFixture();
});
afterAll(async () => {
  await f?.close();
});

/** What a refused request must not have changed. */
function snapshot() {
  return { releases: f.store.releases.list({ limit: 1000 }).map((r) => `${r.id}:${r.status}`), lastEvent: f.store.events.lastId() };
}

describe("auth", () => {
  it("serves /v1/health and /v1/openapi.json without a token", async () => {
    expect(await call(f.url, "GET", "/v1/health")).toMatchObject({ status: 200, body: { ok: true } });
    const doc = await call<{ openapi: string }>(f.url, "GET", "/v1/openapi.json");
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe("3.1.0");
  });

  it("answers 401 ERR_UNAUTHORIZED without a token, with a bad one, or with a non-bearer header, never echoing it", async () => {
    const bad = "cbo_admin_not-a-real-token-XYZ123";
    const answers = [
      await call<ErrorBody>(f.url, "GET", "/v1/status"),
      await call<ErrorBody>(f.url, "GET", "/v1/status", { token: bad }),
      await call<ErrorBody>(f.url, "GET", "/v1/status", { headers: { authorization: `Basic ${bad}` } }),
      await call<ErrorBody>(f.url, "GET", "/v1/status", { token: `${f.tokens.admin}x` }),
    ];
    for (const a of answers) {
      expect(a.status).toBe(401);
      expect(a.body.error.code).toBe("ERR_UNAUTHORIZED");
      expect(a.text).not.toContain(bad);
      expect(a.text).not.toContain(f.tokens.admin.slice(4, 20));
      expect(a.text).not.toMatch(/\bat .*\.ts:\d+/);
    }
  });

  it("a revoked token is refused", async () => {
    const { token, row } = f.store.tokens.create({ name: "short-lived", role: "admin" });
    expect((await call(f.url, "GET", "/v1/targets", { token })).status).toBe(200);
    f.store.tokens.revoke(row.id);
    expect((await call(f.url, "GET", "/v1/targets", { token })).status).toBe(401);
  });

  it("a viewer trying to release gets 403 ERR_FORBIDDEN and nothing changes", async () => {
    const before = snapshot();
    const r = await call<ErrorBody>(f.url, "POST", "/v1/releases", { token: f.tokens.viewer, json: { worker: "hello" } });
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe("ERR_FORBIDDEN");
    expect(r.body.error.message).toMatch(/deployer/);
    for (const [method, path] of [
      ["POST", "/v1/workers/hello/rollback"],
      ["GET", "/v1/workers/hello/plan"],
    ] as const) {
      expect(
        (await call<ErrorBody>(f.url, method, path, { token: f.tokens.viewer, ...(method === "POST" ? { json: {} } : {}) })).body.error
          .code,
      ).toBe("ERR_FORBIDDEN");
    }
    expect(snapshot()).toEqual(before);
    expect(f.store.releases.list()).toEqual([]);
  });

  it("auth comes before input: a viewer's malformed body is still 403, an anonymous one 401", async () => {
    expect((await call(f.url, "POST", "/v1/releases", { token: f.tokens.viewer, body: "{not json" })).status).toBe(403);
    expect((await call(f.url, "POST", "/v1/releases", { body: "{not json" })).status).toBe(401);
  });

  it("a token scoped to another tenant is refused", async () => {
    const { token } = f.store.tokens.create({ name: "other tenant", role: "admin", tenant: "acme" });
    const r = await call<ErrorBody>(f.url, "GET", "/v1/status", { token });
    expect(r.status).toBe(403);
    expect(r.body.error.message).toMatch(/tenant "acme"/);
  });
});

describe("input validation", () => {
  it("malformed JSON is 400 ERR_VALIDATION and nothing changes", async () => {
    const before = snapshot();
    const r = await call<ErrorBody>(f.url, "POST", "/v1/releases", { token: f.tokens.deployer, body: '{"worker": "hello"' });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: "ERR_VALIDATION", message: "The request body is not valid JSON." });
    expect(snapshot()).toEqual(before);
  });

  it("a bad body is 400 naming the path; unknown keys are refused", async () => {
    const before = snapshot();
    const wrongType = await call<Refusal<ValidationIssues>>(f.url, "POST", "/v1/releases", {
      token: f.tokens.deployer,
      json: { worker: 42 },
    });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.error.details.issues[0].path).toBe("body.worker");
    expect(wrongType.body.error.message).toContain("body.worker");
    const missing = await call<Refusal<ValidationIssues>>(f.url, "POST", "/v1/releases", { token: f.tokens.deployer, body: "" });
    expect(missing.body.error.details.issues[0].path).toBe("body.worker");
    const extra = await call<ErrorBody>(f.url, "POST", "/v1/releases", {
      token: f.tokens.deployer,
      json: { worker: "hello", forse: true },
    });
    expect(extra.status).toBe(400);
    expect(extra.body.error.message).toMatch(/forse/);
    const notObject = await call(f.url, "POST", "/v1/workers/hello/rollback", { token: f.tokens.deployer, json: ["x"] });
    expect(notObject.status).toBe(400);
    expect(snapshot()).toEqual(before);
  });

  it("bad query values are 400 naming the parameter", async () => {
    const r = await call<Refusal<ValidationIssues>>(f.url, "GET", "/v1/events?after=-1", { token: f.tokens.viewer });
    expect(r.status).toBe(400);
    expect(r.body.error.details.issues[0].path).toBe("query.after");
    expect((await call(f.url, "GET", "/v1/events?limit=abc", { token: f.tokens.viewer })).status).toBe(400);
  });

  it("a body over the route's limit is refused with 413 (64 KiB by default)", async () => {
    const r = await call<ErrorBody>(f.url, "POST", "/v1/releases", {
      token: f.tokens.deployer,
      json: { worker: "x".repeat(64 * 1024 + 10) },
    });
    expect(r.status).toBe(413);
    expect(r.body.error).toMatchObject({ code: "ERR_PAYLOAD_TOO_LARGE", details: { limit: 64 * 1024 } });
  });

  it("unknown worker, release or route is 404 ERR_NOT_FOUND and nothing changes", async () => {
    const before = snapshot();
    const answers = [
      await call<ErrorBody>(f.url, "POST", "/v1/releases", { token: f.tokens.deployer, json: { worker: "nope" } }),
      await call<ErrorBody>(f.url, "GET", "/v1/workers/nope/plan", { token: f.tokens.deployer }),
      await call<ErrorBody>(f.url, "GET", "/v1/workers/nope/versions", { token: f.tokens.viewer }),
      await call<ErrorBody>(f.url, "POST", "/v1/workers/nope/rollback", { token: f.tokens.deployer, json: {} }),
      await call<ErrorBody>(f.url, "GET", "/v1/releases/no-such-release", { token: f.tokens.viewer }),
      await call<ErrorBody>(f.url, "POST", "/v1/releases/no-such-release/abort", { token: f.tokens.deployer }),
      await call<ErrorBody>(f.url, "GET", "/v1/nothing-here", { token: f.tokens.viewer }),
    ];
    for (const a of answers) expect([a.status, a.body.error.code]).toEqual([404, "ERR_NOT_FOUND"]);
    expect(answers[0]!.body.error.details).toMatchObject({ known: ["hello"] });
    expect(snapshot()).toEqual(before);
  });

  it("the event stream path answers plain HTTP with 400", async () => {
    const r = await call<ErrorBody>(f.url, "GET", "/v1/events/stream", { token: f.tokens.viewer });
    expect([r.status, r.body.error.code]).toEqual([400, "ERR_VALIDATION"]);
  });
});

describe("errors", () => {
  it("an unexpected error is 500 ERR_INTERNAL with a generic message; the real one goes to the log only", async () => {
    f.engine.failNextPlan(new Error("SQLITE_CORRUPT at /var/secret/path.db"));
    const r = await call<ErrorBody>(f.url, "GET", "/v1/workers/hello/plan", { token: f.tokens.deployer });
    expect(r.status).toBe(500);
    expect(r.body.error.code).toBe("ERR_INTERNAL");
    expect(r.text).not.toContain("SQLITE_CORRUPT");
    expect(r.text).not.toContain("/var/secret");
    expect(f.logged.join("\n")).toContain("SQLITE_CORRUPT at /var/secret/path.db");
  });

  it("a CboError keeps its code, status, message and details", async () => {
    f.engine.failNextPlan(new CboError("ERR_CF_RATE_LIMITED", "Cloudflare kept answering 429.", { details: { target: "eu" } }));
    const r = await call(f.url, "GET", "/v1/workers/hello/plan", { token: f.tokens.deployer });
    expect(r.status).toBe(503);
    expect(r.body).toEqual({
      error: { code: "ERR_CF_RATE_LIMITED", message: "Cloudflare kept answering 429.", details: { target: "eu" } },
    });
  });
});

describe("releases", () => {
  it("a deployer releases (202, running), reads it back with its journal, lists it and aborts it; a second abort is 409", async () => {
    const created = await call(f.url, "POST", "/v1/releases", { token: f.tokens.deployer, json: { worker: "hello" } });
    expect(created.status).toBe(202);
    const release = ReleaseSchema.parse(created.body);
    expect(release).toMatchObject({ worker: "hello", kind: "release", status: "running", created_by: "test deployer" });
    expect(f.store.releases.get(release.id)?.status).toBe("running");

    const again = await call<ErrorBody>(f.url, "POST", "/v1/releases", { token: f.tokens.admin, json: { worker: "hello" } });
    expect([again.status, again.body.error.code]).toEqual([409, "ERR_CONFLICT"]);

    const detail = await call<ReleaseDetail>(f.url, "GET", `/v1/releases/${release.id}`, { token: f.tokens.viewer });
    expect(detail.status).toBe(200);
    expect(detail.body.release.id).toBe(release.id);
    expect(detail.body.journal.map((j) => j.kind)).toEqual(["created"]);

    const list = await call<Page<Release>>(f.url, "GET", "/v1/releases?worker=hello", { token: f.tokens.viewer });
    expect(list.body.items.map((r) => r.id)).toEqual([release.id]);
    expect(list.body.next).toBeUndefined();
    expect((await call(f.url, "GET", "/v1/releases?worker=other", { token: f.tokens.viewer })).body).toEqual({ items: [] });

    const aborted = await call<Release>(f.url, "POST", `/v1/releases/${release.id}/abort`, { token: f.tokens.deployer });
    expect([aborted.status, aborted.body.status]).toEqual([200, "aborted"]);
    const twice = await call<ErrorBody>(f.url, "POST", `/v1/releases/${release.id}/abort`, { token: f.tokens.deployer });
    expect([twice.status, twice.body.error.code]).toEqual([409, "ERR_CONFLICT"]);

    const events = await call<Page<unknown>>(f.url, "GET", `/v1/events?release=${release.id}`, { token: f.tokens.viewer });
    expect(events.body.items.map((e) => EventSchema.parse(e).type)).toEqual(["release.created", "release.aborted"]);
  });

  it("pause, resume and promote are a deployer's (a viewer gets 403 and nothing changes); control and analysis are a viewer's", async () => {
    const created = await call<Release>(f.url, "POST", "/v1/releases", { token: f.tokens.deployer, json: { worker: "hello" } });
    const id = created.body.id;
    const before = snapshot();
    const refused = await call<ErrorBody>(f.url, "POST", `/v1/releases/${id}/pause`, { token: f.tokens.viewer, json: {} });
    expect([refused.status, refused.body.error.code]).toEqual([403, "ERR_FORBIDDEN"]);
    expect((await call<ReleaseControl>(f.url, "GET", `/v1/releases/${id}/control`, { token: f.tokens.viewer })).body.paused).toBe(false);
    expect(snapshot()).toEqual(before);

    const paused = await call<ControlResult>(f.url, "POST", `/v1/releases/${id}/pause`, {
      token: f.tokens.deployer,
      json: { reason: "look first" },
    });
    expect([paused.status, paused.body.release.id, paused.body.control.paused]).toEqual([200, id, true]);
    const audit = f.store.db
      .prepare("SELECT action, details FROM audit_entries WHERE action = 'release.pause' ORDER BY seq DESC LIMIT 1")
      .get() as { action: string; details: string } | undefined;
    expect(audit?.details).toContain("look first");
    expect((await call(f.url, "POST", `/v1/releases/${id}/promote`, { token: f.tokens.deployer })).status).toBe(409);
    const resumed = await call<ControlResult>(f.url, "POST", `/v1/releases/${id}/resume`, { token: f.tokens.deployer });
    expect([resumed.status, resumed.body.control.paused]).toEqual([200, false]);
    const typo = await call<ErrorBody>(f.url, "POST", `/v1/releases/${id}/pause`, { token: f.tokens.deployer, json: { reson: "x" } });
    expect([typo.status, typo.body.error.code]).toEqual([400, "ERR_VALIDATION"]);

    const analysis = await call(f.url, "GET", `/v1/releases/${id}/analysis`, { token: f.tokens.viewer });
    expect(analysis.body).toEqual({ releaseId: id, worker: "hello", enabled: false, steps: [] });
    expect((await call(f.url, "GET", "/v1/releases/nope/analysis", { token: f.tokens.viewer })).status).toBe(404);
    await call(f.url, "POST", `/v1/releases/${id}/abort`, { token: f.tokens.deployer });
  });

  it("an agent token acts as a deployer: it can roll back (202), with `to` passed to the engine", async () => {
    const r = await call<Release>(f.url, "POST", "/v1/workers/hello/rollback", { token: f.tokens.agent, json: { to: "some-version" } });
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ kind: "rollback", status: "running", created_by: "test agent", plan: { to: "some-version" } });
    await call(f.url, "POST", `/v1/releases/${r.body.id}/abort`, { token: f.tokens.agent });
  });

  it("plan is the engine's ReleasePlan", async () => {
    const r = await call(f.url, "GET", "/v1/workers/hello/plan", { token: f.tokens.deployer });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ worker: "hello", waves: [["eu"], ["us", "ap"]], steps: [10, 50, 100], apiCalls: 9 });
  });

  it("events page with after and limit, oldest first", async () => {
    const all = (await call<Page<{ id: number }>>(f.url, "GET", "/v1/events", { token: f.tokens.viewer })).body.items;
    expect(all.length).toBeGreaterThanOrEqual(3);
    const ids = all.map((e) => e.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    const page = (await call<Page<{ id: number }>>(f.url, "GET", `/v1/events?after=${ids[0]}&limit=1`, { token: f.tokens.viewer })).body;
    expect(page.items.map((e) => e.id)).toEqual([ids[1]]);
    const newest = (await call<Page<{ id: number }>>(f.url, "GET", "/v1/events?order=desc&limit=2", { token: f.tokens.viewer })).body.items;
    expect(newest.map((e) => e.id)).toEqual(ids.slice(-2).reverse());
  });
});

describe("catalog and status", () => {
  it("targets and workers come from the spec, with account ids from the catalog", async () => {
    const targets = await call<TargetSummary[]>(f.url, "GET", "/v1/targets", { token: f.tokens.viewer });
    expect(targets.body.map((t) => t.name)).toEqual(["eu", "us", "ap"]);
    expect(targets.body[0]).toEqual({ name: "eu", api: "local", accountId: "eu".padEnd(32, "0"), region: "eu", jurisdiction: "eu" });
    const workers = await call(f.url, "GET", "/v1/workers", { token: f.tokens.viewer });
    expect(workers.body).toEqual([expect.objectContaining({ name: "hello", targets: ["eu", "us", "ap"], steps: [10, 50, 100] })]);
  });

  it("versions are listed newest first", async () => {
    f.store.catalog.recordVersion({
      tenant: "default",
      worker: "hello",
      target: "eu",
      version_id: "v-old",
      release_id: null,
      bundle_hash: null,
    });
    await new Promise((r) => setTimeout(r, 5));
    f.store.catalog.recordVersion({
      tenant: "default",
      worker: "hello",
      target: "eu",
      version_id: "v-new",
      release_id: "r1",
      bundle_hash: "h",
    });
    const r = await call<Page<VersionEntry>>(f.url, "GET", "/v1/workers/hello/versions", { token: f.tokens.viewer });
    expect(r.body.items.map((v) => v.versionId)).toEqual(["v-new", "v-old"]);
    expect(r.body.items[0]).toMatchObject({ target: "eu", releaseId: "r1", live: false });
  });

  it("status has every target and worker with health and the last release; live is marked unobserved without target runtimes", async () => {
    f.store.health.observe({
      tenant: "default",
      worker: "hello",
      target: "us",
      status: "healthy",
      versionId: "v-new",
      latencyMs: 3.5,
      detail: null,
    });
    const r = await call<Status>(f.url, "GET", "/v1/status", { token: f.tokens.viewer });
    expect(r.status).toBe(200);
    expect(r.body.tenant).toBe("default");
    expect(r.body.targets).toHaveLength(3);
    const hello = r.body.workers[0];
    expect(hello.name).toBe("hello");
    expect(hello.targets.map((t) => t.target)).toEqual(["eu", "us", "ap"]);
    expect(hello.targets[1].health).toMatchObject({ status: "healthy", versionId: "v-new", latencyMs: 3.5 });
    expect(hello.targets[0].health).toBeNull();
    expect(hello.targets[0]).toMatchObject({ live: [], liveError: expect.stringMatching(/not observed/) });
    expect(hello.lastRelease?.id).toBe(f.store.releases.list({ worker: "hello", limit: 1 })[0]!.id);

    const health = await call(f.url, "GET", "/v1/health/workers", { token: f.tokens.viewer });
    expect(health.body).toEqual([expect.objectContaining({ worker: "hello", target: "us", status: "healthy", version_id: "v-new" })]);
  });
});
