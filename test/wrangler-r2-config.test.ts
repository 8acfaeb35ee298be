// Real wrangler's `r2 bucket cors|lifecycle|lock` against the local edge: each command as a user
// runs it, its output, and what the edge then stores (read back over the REST API), per
// jurisdiction (and the same with wrangler 4.86); the rules survive an edge restart and go with
// their bucket. Then the API itself with malformed rule lists: a 400 in Cloudflare's envelope
// naming the field, nothing stored.
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalEdge } from "../src/local-edge/index.ts";
import { startTestEdge, type TestEdge } from "./support/edge.ts";
import { edgeApi } from "./support/edge-api.ts";
import { createWranglerProject, describeRun, type WranglerProject } from "./support/wrangler.ts";

const DEFAULT_RULE = {
  id: "Default Multipart Abort Rule",
  enabled: true,
  conditions: { prefix: "" },
  abortMultipartUploadsTransition: { condition: { maxAge: 604800, type: "Age" } },
};
const CORS = {
  rules: [
    {
      allowed: { origins: ["https://app.example"], methods: ["GET", "PUT"], headers: ["content-type"] },
      exposeHeaders: ["ETag"],
      maxAgeSeconds: 3600,
    },
  ],
};

describe("wrangler r2 bucket cors / lifecycle / lock against the local edge", () => {
  let t: TestEdge;
  let w: WranglerProject;
  const api = () => edgeApi(t.edge, t.region);
  const rules = async (bucket: string, kind: string, jurisdiction?: string) => {
    const r = await api().call<{ rules: unknown[] }>(
      "GET",
      `/r2/buckets/${bucket}/${kind}`,
      undefined,
      jurisdiction ? { "cf-r2-jurisdiction": jurisdiction } : {},
    );
    expect(r.success, JSON.stringify(r)).toBe(true);
    return r.result.rules;
  };
  const fails = async (args: string[]) => {
    const r = await w.run(args);
    expect(r.code, describeRun(r)).not.toBe(0);
    return `${r.stdout}\n${r.stderr}`;
  };

  beforeAll(async () => {
    t = await startTestEdge({ regions: ["eu"] });
    w = await createWranglerProject(path.join(t.dataDir, "proj"), t.edge, t.region.accountId);
    await w.writeConfig({ name: "cfg", main: "src/index.js", compatibility_date: "2025-01-01" });
    await w.writeSource("export default { fetch() { return new Response('ok'); } };");
    await w.ok(["r2", "bucket", "create", "assets"]);
    await w.ok(["r2", "bucket", "create", "assets", "--jurisdiction", "eu"]);
  }, 60_000);
  afterAll(async () => t?.dispose());

  it("cors set --file / list / delete, per jurisdiction", async () => {
    expect((await w.ok(["r2", "bucket", "cors", "list", "assets"])).stdout).toContain(
      "There is no CORS configuration defined for bucket 'assets'",
    );
    await w.writeFile("cors.json", JSON.stringify(CORS));
    const set = await w.ok(["r2", "bucket", "cors", "set", "assets", "--file", "cors.json", "--force"]);
    expect(set.stdout).toContain("Set CORS configuration for bucket 'assets'");
    const list = (await w.ok(["r2", "bucket", "cors", "list", "assets"])).stdout;
    expect(list).toMatch(/allowed_origins:\s+https:\/\/app\.example/);
    expect(list).toMatch(/allowed_methods:\s+GET, PUT/);
    expect(list).toMatch(/max_age_seconds:\s+3600/);
    expect(await rules("assets", "cors")).toEqual(CORS.rules);
    // The eu bucket of the same name is another bucket: untouched until set with --jurisdiction.
    expect(await rules("assets", "cors", "eu")).toEqual([]);
    await w.writeFile("cors-eu.json", JSON.stringify({ rules: [{ allowed: { origins: ["*"], methods: ["HEAD"] } }] }));
    await w.ok(["r2", "bucket", "cors", "set", "assets", "--file", "cors-eu.json", "--jurisdiction", "eu", "--force"]);
    expect(await rules("assets", "cors", "eu")).toEqual([{ allowed: { origins: ["*"], methods: ["HEAD"] } }]);
    expect(await rules("assets", "cors")).toEqual(CORS.rules);

    // A method R2 does not know reaches the edge (wrangler does not check) and is refused there.
    await w.writeFile("cors-bad.json", JSON.stringify({ rules: [{ allowed: { origins: ["*"], methods: ["PATCH"] } }] }));
    const bad = await fails(["r2", "bucket", "cors", "set", "assets", "--file", "cors-bad.json", "--force"]);
    expect(bad).toContain("rules[0].allowed.methods[0]");
    expect(bad).toContain("[code: 10040]");
    expect(await rules("assets", "cors")).toEqual(CORS.rules);

    expect((await w.ok(["r2", "bucket", "cors", "delete", "assets", "--force"])).stdout).toContain(
      "CORS configuration deleted for bucket 'assets'",
    );
    expect(await rules("assets", "cors")).toEqual([]);
    expect(await rules("assets", "cors", "eu")).toHaveLength(1);
    expect(await fails(["r2", "bucket", "cors", "list", "no-such-bucket"])).toContain("[code: 10006]");
  }, 60_000);

  it("lifecycle list (R2's default rule) / add / remove / set", async () => {
    const first = (await w.ok(["r2", "bucket", "lifecycle", "list", "assets"])).stdout;
    expect(first).toContain("Default Multipart Abort Rule");
    expect(first).toContain("Abort incomplete multipart uploads after 7 days");
    expect(await rules("assets", "lifecycle")).toEqual([DEFAULT_RULE]);

    const add = await w.ok([
      "r2",
      "bucket",
      "lifecycle",
      "add",
      "assets",
      "expire-logs",
      "logs/",
      "--expire-days",
      "30",
      "--ia-transition-days",
      "10",
      "--force",
    ]);
    expect(add.stdout).toContain("Added lifecycle rule 'expire-logs' to bucket 'assets'");
    const listed = (await w.ok(["r2", "bucket", "lifecycle", "list", "assets"])).stdout;
    expect(listed).toMatch(/prefix:\s+logs\//);
    expect(listed).toContain("Expire objects after 30 days, Transition to Infrequent Access after 10 days");
    expect(await rules("assets", "lifecycle")).toEqual([
      DEFAULT_RULE,
      {
        id: "expire-logs",
        enabled: true,
        conditions: { prefix: "logs/" },
        deleteObjectsTransition: { condition: { type: "Age", maxAge: 30 * 86400 } },
        storageClassTransitions: [{ condition: { type: "Age", maxAge: 10 * 86400 }, storageClass: "InfrequentAccess" }],
      },
    ]);
    // wrangler appends to what it read, so a second rule of the same id reaches the edge, which refuses it.
    const dup = await fails(["r2", "bucket", "lifecycle", "add", "assets", "expire-logs", "tmp/", "--expire-days", "1", "--force"]);
    expect(dup).toContain("rule ids must be unique");
    expect(await rules("assets", "lifecycle")).toHaveLength(2);

    const removed = await w.ok(["r2", "bucket", "lifecycle", "remove", "assets", "--name", "Default Multipart Abort Rule"]);
    expect(removed.stdout).toContain("Lifecycle rule 'Default Multipart Abort Rule' removed from bucket 'assets'");
    expect((await rules("assets", "lifecycle")).map((r) => (r as { id: string }).id)).toEqual(["expire-logs"]);

    await w.writeFile("lifecycle.json", JSON.stringify({ rules: [] }));
    await w.ok(["r2", "bucket", "lifecycle", "set", "assets", "--file", "lifecycle.json", "--force"]);
    expect((await w.ok(["r2", "bucket", "lifecycle", "list", "assets"])).stdout).toContain(
      "There are no lifecycle rules for bucket 'assets'",
    );
    // The eu bucket still has the default rule: set on one jurisdiction is not set on the other.
    expect(await rules("assets", "lifecycle", "eu")).toEqual([DEFAULT_RULE]);
    const dated = {
      rules: [
        {
          id: "new-year",
          enabled: false,
          conditions: {},
          deleteObjectsTransition: { condition: { type: "Date", date: "2027-01-01T00:00:00.000Z" } },
        },
      ],
    };
    await w.writeFile("lifecycle-eu.json", JSON.stringify(dated));
    await w.ok(["r2", "bucket", "lifecycle", "set", "assets", "--file", "lifecycle-eu.json", "--jurisdiction", "eu", "--force"]);
    expect(await rules("assets", "lifecycle", "eu")).toEqual(dated.rules);
    expect((await w.ok(["r2", "bucket", "lifecycle", "list", "assets", "--jurisdiction", "eu"])).stdout).toContain(
      "Expire objects on 2027-01-01",
    );
  }, 90_000);

  it("lock list / add / remove / set", async () => {
    expect((await w.ok(["r2", "bucket", "lock", "list", "assets"])).stdout).toContain("There are no lock rules for bucket 'assets'");
    await w.ok(["r2", "bucket", "lock", "add", "assets", "keep-invoices", "invoices/", "--retention-days", "30", "--force"]);
    await w.ok(["r2", "bucket", "lock", "add", "assets", "keep-all", "--retention-indefinite", "--force"]);
    const listed = (await w.ok(["r2", "bucket", "lock", "list", "assets"])).stdout;
    expect(listed).toMatch(/name:\s+keep-invoices/);
    expect(listed).toContain("after 30 days");
    expect(listed).toContain("indefinitely");
    expect(await rules("assets", "lock")).toEqual([
      { id: "keep-invoices", enabled: true, prefix: "invoices/", condition: { type: "Age", maxAgeSeconds: 30 * 86400 } },
      { id: "keep-all", enabled: true, condition: { type: "Indefinite" } },
    ]);
    expect(await fails(["r2", "bucket", "lock", "add", "assets", "keep-all", "--retention-indefinite", "--force"])).toContain(
      "rule ids must be unique",
    );
    expect((await w.ok(["r2", "bucket", "lock", "remove", "assets", "--name", "keep-invoices"])).stdout).toContain(
      "Lock rule 'keep-invoices' removed from bucket 'assets'",
    );
    expect(await rules("assets", "lock")).toEqual([{ id: "keep-all", enabled: true, condition: { type: "Indefinite" } }]);
    expect(await rules("assets", "lock", "eu")).toEqual([]);
    const lock = {
      rules: [{ id: "until-2030", enabled: true, prefix: "audit/", condition: { type: "Date", date: "2030-01-01T00:00:00.000Z" } }],
    };
    await w.writeFile("lock.json", JSON.stringify(lock));
    await w.ok(["r2", "bucket", "lock", "set", "assets", "--file", "lock.json", "--jurisdiction", "eu", "--force"]);
    expect((await w.ok(["r2", "bucket", "lock", "list", "assets", "--jurisdiction", "eu"])).stdout).toContain("on 2030-01-01");
    expect(await rules("assets", "lock", "eu")).toEqual(lock.rules);
  }, 60_000);

  it("the API refuses malformed rule lists with a 400 naming the field, and stores nothing", async () => {
    await api().ok("PUT", "/r2/buckets/assets/cors", CORS);
    const cases: Array<[string, unknown, string]> = [
      ["cors", { rules: [{ allowed: { origins: ["*"], methods: ["GET", "TRACE"] } }] }, "rules[0].allowed.methods[1]"],
      [
        "cors",
        { rules: [{ allowed: { origins: ["*"], methods: ["GET"] }, maxAgeSeconds: -1 }] },
        "rules[0].maxAgeSeconds: must be 0 or more seconds",
      ],
      ["cors", { rules: [{ AllowedOrigins: ["*"], AllowedMethods: ["GET"] }] }, "rules[0]"],
      ["cors", { CORSRules: [] }, "Invalid cors configuration"],
      [
        "cors",
        {
          rules: [
            { id: "a", allowed: { origins: ["*"], methods: ["GET"] } },
            { id: "a", allowed: { origins: ["*"], methods: ["PUT"] } },
          ],
        },
        'rules[1].id: "a" is used by an earlier rule',
      ],
      [
        "lifecycle",
        { rules: [{ id: "x", enabled: true, conditions: {}, deleteObjectsTransition: { condition: { type: "Age", maxAge: -86400 } } }] },
        "rules[0].deleteObjectsTransition.condition.maxAge: must be a positive number of seconds",
      ],
      [
        "lifecycle",
        {
          rules: [
            { id: "x", enabled: true, conditions: {}, deleteObjectsTransition: { condition: { type: "Date", date: "next tuesday" } } },
          ],
        },
        "must be an ISO 8601 date",
      ],
      [
        "lifecycle",
        {
          rules: [
            {
              id: "x",
              enabled: true,
              conditions: {},
              abortMultipartUploadsTransition: { condition: { type: "Date", date: "2027-01-01" } },
            },
          ],
        },
        "rules[0].abortMultipartUploadsTransition.condition",
      ],
      ["lifecycle", { rules: [{ id: "", enabled: true, conditions: {} }] }, "rules[0].id: must be a non-empty string"],
      [
        "lifecycle",
        {
          rules: [
            { id: "d", enabled: true, conditions: {} },
            { id: "d", enabled: false, conditions: {} },
          ],
        },
        "rule ids must be unique",
      ],
      [
        "lock",
        { rules: [{ id: "l", enabled: true, condition: { type: "Age", maxAgeSeconds: 0 } }] },
        "rules[0].condition.maxAgeSeconds: must be a positive number of seconds",
      ],
      ["lock", { rules: [{ id: "l", enabled: "yes", condition: { type: "Indefinite" } }] }, "rules[0].enabled"],
      ["lock", { rules: [{ id: "l", enabled: true, condition: { type: "Forever" } }] }, "rules[0].condition"],
      ["lock", { rules: "none" }, "rules"],
    ];
    for (const [kind, body, message] of cases) {
      const before = await rules("assets", kind);
      const r = await api().call("PUT", `/r2/buckets/assets/${kind}`, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.success).toBe(false);
      expect(r.errors[0]!.code).toBe(10040);
      expect(r.errors[0]!.message).toContain(message);
      expect(await rules("assets", kind)).toEqual(before);
    }
    const notJson = await fetch(`${t.edge.apiUrl}/accounts/${t.region.accountId}/r2/buckets/assets/lock`, {
      method: "PUT",
      headers: { authorization: `Bearer ${t.edge.token}`, "content-type": "application/json" },
      body: "{rules:",
    });
    expect(notJson.status).toBe(400);
    for (const [method, kind] of [
      ["GET", "cors"],
      ["PUT", "cors"],
      ["DELETE", "cors"],
      ["GET", "lifecycle"],
      ["PUT", "lifecycle"],
      ["GET", "lock"],
      ["PUT", "lock"],
    ] as const) {
      const r = await api().call(method, `/r2/buckets/missing-bucket/${kind}`, method === "PUT" ? { rules: [] } : undefined);
      expect(r.status, `${method} ${kind}`).toBe(404);
      expect(r.errors[0]!.code).toBe(10006);
    }
    // The fedramp jurisdiction has no `assets`; an unknown jurisdiction is refused as the other R2 routes refuse it.
    expect((await api().call("GET", "/r2/buckets/assets/lock", undefined, { "cf-r2-jurisdiction": "fedramp" })).errors[0]!.code).toBe(
      10006,
    );
    const mars = await api().call("GET", "/r2/buckets/assets/lock", undefined, { "cf-r2-jurisdiction": "mars" });
    expect([mars.status, mars.errors[0]!.code]).toEqual([400, 10040]);
  }, 60_000);

  it("the rules survive an edge restart, and go with their bucket", async () => {
    const apiPort = Number(new URL(t.edge.apiUrl).port);
    await t.edge.close();
    t.edge = await startLocalEdge({ dataDir: t.dataDir, regions: ["eu"], port: apiPort, regionPorts: { eu: t.region.port } });
    t.region = t.edge.regions[0]!;
    expect(await rules("assets", "cors")).toEqual(CORS.rules);
    expect(await rules("assets", "lifecycle")).toEqual([]);
    expect(await rules("assets", "lock")).toEqual([{ id: "keep-all", enabled: true, condition: { type: "Indefinite" } }]);
    expect((await w.ok(["r2", "bucket", "lifecycle", "list", "assets", "--jurisdiction", "eu"])).stdout).toContain("new-year");

    // In the edge's SQLite file: 3 rule lists for each of the two buckets; deleting
    // the bucket deletes its lists (a recreated bucket gets a new id, so the API alone cannot tell).
    const stored = () => {
      const db = new DatabaseSync(path.join(t.dataDir, "edge.sqlite"), { readOnly: true });
      try {
        return (db.prepare("SELECT kind FROM r2_bucket_config ORDER BY kind").all() as Array<{ kind: string }>).map((r) => r.kind);
      } finally {
        db.close();
      }
    };
    expect(stored()).toEqual(["cors", "cors", "lifecycle", "lifecycle", "lock", "lock"]);
    await w.ok(["r2", "bucket", "delete", "assets"]);
    expect(stored()).toEqual(["cors", "lifecycle", "lock"]);
    await w.ok(["r2", "bucket", "create", "assets"]);
    expect(await rules("assets", "cors")).toEqual([]);
    expect(await rules("assets", "lifecycle")).toEqual([DEFAULT_RULE]);
    expect(await rules("assets", "lock")).toEqual([]);
    expect(await rules("assets", "cors", "eu")).toHaveLength(1);
  }, 90_000);
  it("wrangler 4.86 drives the same routes", async () => {
    const old = await createWranglerProject(path.join(t.dataDir, "proj-4.86"), t.edge, t.region.accountId, { wrangler: "4.86" });
    await old.writeConfig({ name: "cfg-old", main: "src/index.js", compatibility_date: "2025-01-01" });
    await old.writeSource("export default { fetch() { return new Response('ok'); } };");
    await old.ok(["r2", "bucket", "create", "older"]);
    await old.writeFile("cors.json", JSON.stringify(CORS));
    await old.ok(["r2", "bucket", "cors", "set", "older", "--file", "cors.json", "--force"]);
    expect((await old.ok(["r2", "bucket", "cors", "list", "older"])).stdout).toMatch(/allowed_methods:\s+GET, PUT/);
    await old.ok(["r2", "bucket", "lifecycle", "add", "older", "expire-all", "--expire-days", "3", "--force"]);
    expect((await old.ok(["r2", "bucket", "lifecycle", "list", "older"])).stdout).toContain("Expire objects after 3 days");
    await old.ok(["r2", "bucket", "lock", "add", "older", "hold", "--retention-days", "1", "--force"]);
    expect((await old.ok(["r2", "bucket", "lock", "list", "older"])).stdout).toContain("after 1 day");
    expect(await rules("older", "cors")).toEqual(CORS.rules);
    expect((await rules("older", "lifecycle")).map((r) => (r as { id: string }).id)).toEqual([
      "Default Multipart Abort Rule",
      "expire-all",
    ]);
    expect(await rules("older", "lock")).toEqual([{ id: "hold", enabled: true, condition: { type: "Age", maxAgeSeconds: 86400 } }]);
  }, 60_000);
});
