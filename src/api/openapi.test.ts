// The OpenAPI document against the app it describes: every route of the Hono app appears in it
// (and nothing else), with its role, inputs, success and error responses, and every $ref resolves.
import { describe, expect, it } from "vitest";
import { EVENT_TYPES } from "../contract/index.ts";
import { createStore } from "../store/index.ts";
import { fakeEngineForApiTests, openTestSecurity, testSpec } from "../../test/support/api-fixtures.ts";
import type { OpenApiDocument } from "../../test/support/openapi-document.ts";
import { createApi } from "./app.ts";
import { openApiPath } from "./openapi.ts";
import { silentLogger } from "../telemetry/index.ts";

async function makeApi() {
  const store = createStore(":memory:");
  const spec = testSpec();
  const security = await openTestSecurity(store);
  return {
    store,
    api: createApi({ store, engine: fakeEngineForApiTests(store, () => spec), security, spec: () => spec, log: silentLogger }),
  };
}

function refs(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => refs(n, out));
  else if (node && typeof node === "object") {
    for (const [k, v] of Object.entries(node)) {
      if (k === "$ref" && typeof v === "string") out.push(v);
      else refs(v, out);
    }
  }
  return out;
}

describe("OpenAPI document", () => {
  it("lists exactly the app's routes, served at /v1/openapi.json", async () => {
    const { store, api } = await makeApi();
    const res = await api.app.request("/v1/openapi.json");
    expect(res.status).toBe(200);
    const doc = (await res.json()) as OpenApiDocument;
    expect(doc.openapi).toBe("3.1.0");

    const inApp = api.app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method.toLowerCase()} ${openApiPath(r.path)}`);
    const inDoc = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`));
    expect([...inDoc].sort()).toEqual([...new Set(inApp)].sort());
    // The contract's routes, by name: a route dropped from the app fails here, not only in the CLI.
    for (const route of [
      "get /v1/health",
      "get /v1/openapi.json",
      "get /v1/status",
      "get /v1/targets",
      "get /v1/workers",
      "get /v1/workers/{name}/versions",
      "get /v1/workers/{name}/plan",
      "post /v1/releases",
      "get /v1/releases",
      "get /v1/releases/{id}",
      "post /v1/releases/{id}/abort",
      "post /v1/workers/{name}/rollback",
      "get /v1/events",
      "get /v1/events/stream",
      "get /v1/health/workers",
      "get /v1/secrets",
      "get /v1/secrets/{name}/versions",
      "put /v1/secrets/{name}",
      "get /v1/secrets/{name}/value",
      "post /v1/secrets/{name}/rollback",
      "delete /v1/secrets/{name}",
      "post /v1/secrets/{name}/undelete",
      "post /v1/secrets/{name}/destroy",
      "get /v1/tokens",
      "post /v1/tokens",
      "delete /v1/tokens/{id}",
      "get /v1/audit",
      "get /v1/audit/checkpoints",
      "get /v1/audit/export",
      "post /v1/audit/verify",
      "get /v1/keys/orchestrator",
      "post /v1/secrets/{name}/deliver",
      "get /v1/keys/workers",
      "post /v1/keys/workers/{worker}/rotate",
      "post /v1/relay",
      "get /v1/workers/{name}/config/diff",
      "get /v1/workers/{name}/config/history",
      "post /v1/workers/{name}/config/publish",
      "post /v1/workers/{name}/config/rollback",
      "post /v1/agent/heartbeat",
      "post /v1/vault/rotate-master-key",
      "post /v1/backups",
    ])
      expect(inDoc).toContain(route);
    store.close();
  });

  it("describes auth, inputs and responses of every operation, and every $ref resolves", async () => {
    const { store, api } = await makeApi();
    const doc = (await (await api.app.request("/v1/openapi.json")).json()) as OpenApiDocument;
    const schemas = doc.components.schemas;
    for (const ref of refs(doc)) {
      expect(ref).toMatch(/^#\/components\/schemas\//);
      expect(schemas, ref).toHaveProperty(ref.split("/").pop()!);
    }
    for (const r of api.routes) {
      const op = doc.paths[openApiPath(r.path)][r.method];
      expect(op.operationId).toBe(r.id);
      if (r.role) {
        expect(op.security).toEqual([{ bearer: [] }]);
        expect(op["x-required-role"]).toBe(r.role);
        expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(["401", "403", "429"]));
      } else expect(op.security).toEqual([]);
      expect(op.responses).toHaveProperty(r.websocket ? "101" : String(r.status));
      expect(op.responses["500"].content?.["application/json"]?.schema).toEqual({ $ref: "#/components/schemas/Error" });
      if (r.body) expect(op.requestBody?.content["application/json"]?.schema?.$ref).toMatch(/Body$/);
      const pathParams = [...r.path.matchAll(/:(\w+)/g)].map((m) => m[1]);
      expect(op.parameters.filter((p) => p.in === "path").map((p) => p.name)).toEqual(pathParams);
    }
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: "http", scheme: "bearer" });
    store.close();
  });

  it("generates component schemas from the zod schemas the routes validate with", async () => {
    const { store, api } = await makeApi();
    const doc = (await (await api.app.request("/v1/openapi.json")).json()) as OpenApiDocument;
    const s = doc.components.schemas;
    expect(s.Release.properties?.status?.enum).toEqual([
      "running",
      "rolling_back",
      "succeeded",
      "rolled_back",
      "failed",
      "aborted",
      "unchanged",
    ]);
    // Each event type with its own payload (the contract's typed event map), one branch per type.
    const branches = s.StoredEvent.oneOf ?? [];
    expect(branches.map((b) => b.properties?.type?.const)).toContain("release.step.failed");
    expect(branches.map((b) => b.properties?.type?.const)).toEqual(EVENT_TYPES);
    expect(branches.find((b) => b.properties?.type?.const === "health.changed")?.properties?.data?.required).toEqual([
      "from",
      "to",
      "versionId",
      "latencyMs",
      "detail",
    ]);
    expect(s.CreateReleaseBody).toMatchObject({ required: ["worker"], additionalProperties: false });
    expect(s.Error.properties?.error?.properties?.code?.enum).toContain("ERR_FORBIDDEN");
    expect(s.ReleasePlan.properties?.gate).toEqual({ $ref: "#/components/schemas/Gate" });
    expect(s.ReleasePage).toMatchObject({
      type: "object",
      properties: { items: { type: "array", items: { $ref: "#/components/schemas/Release" } }, next: { type: "string" } },
      required: ["items"],
    });
    const events = doc.paths["/v1/events"].get;
    expect(events.parameters.find((p) => p.name === "after")).toMatchObject({
      in: "query",
      required: false,
      schema: { type: "integer", minimum: 0 },
    });
    // The secret value appears in one response schema only, and the export is JSON lines.
    expect(s.PutSecretBody).toMatchObject({ required: ["value"], additionalProperties: false });
    const withValue = Object.entries(s)
      .filter(([, schema]) => JSON.stringify(schema).includes('"value":'))
      .map(([id]) => id);
    expect(withValue.sort()).toEqual(["PutSecretBody", "SecretValue"]);
    expect(doc.paths["/v1/audit/export"].get.responses["200"].content).toHaveProperty(["application/x-ndjson"]);
    expect(doc.paths["/v1/secrets/{name}/value"].get["x-required-role"]).toBe("admin");
    const stream = doc.paths["/v1/events/stream"].get;
    expect(stream.responses["101"]["x-websocket-message"]).toEqual({ $ref: "#/components/schemas/StoredEvent" });
    store.close();
  });
});
