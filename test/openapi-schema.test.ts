// The OpenAPI document the daemon serves (GET /v1/openapi.json), validated against the official
// OpenAPI 3.1 schema with ajv's JSON Schema 2020-12 support, and each component schema against the
// 2020-12 meta-schema (OpenAPI 3.1's schema objects are JSON Schema 2020-12).
//
// test/fixtures/openapi/oas-3.1-schema-2022-10-07.json is the official schema, vendored unchanged:
// https://spec.openapis.org/oas/3.1/schema/2022-10-07 (its $id), from the OpenAPI Specification
// repository (github.com/OAI/OpenAPI-Specification, schemas/v3.1/schema.json at commit
// 1f0334d11dcee24939b84e3d42b75b261b37104a), Apache License 2.0.
import { readFileSync } from "node:fs";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { describe, expect, it } from "vitest";
import { createApi } from "../src/api/index.ts";
import { createStore } from "../src/store/index.ts";
import { fakeEngineForApiTests, openTestSecurity, testSpec } from "./support/api-fixtures.ts";
import type { OpenApiDocument } from "./support/openapi-document.ts";
import { silentLogger } from "../src/telemetry/index.ts";

const OFFICIAL = readFileSync(new URL("./fixtures/openapi/oas-3.1-schema-2022-10-07.json", import.meta.url), "utf8");
const OAS_SCHEMA = JSON.parse(OFFICIAL);

/**
 * The schema as ajv can run it. The official file points every Schema Object at its one
 * `$dynamicAnchor: meta` ($defs/schema) with `$dynamicRef: "#meta"`; ajv resolves a $dynamicRef
 * whose anchor it has not met yet to the root schema (ajv's lib/vocabularies/dynamic/dynamicRef.ts
 * says so: "the assumption here is that `recursiveRef: #` always points to the root"), which would
 * validate every schema as an OpenAPI document. Without a dialect that extends it, the dynamic
 * scope has that one anchor, so a plain $ref to it means the same: that is the only change.
 */
function ajvReadySchema(): object {
  const anchors = [...OFFICIAL.matchAll(/"\$dynamicAnchor":\s*"([^"]+)"/g)].map((m) => m[1]);
  expect(anchors).toEqual(["meta"]);
  expect(OAS_SCHEMA.$defs.schema.$dynamicAnchor).toBe("meta");
  return JSON.parse(OFFICIAL.replaceAll('"$dynamicRef": "#meta"', '"$ref": "#/$defs/schema"'));
}

async function servedDocument(): Promise<OpenApiDocument> {
  const store = createStore(":memory:");
  const spec = testSpec();
  const security = await openTestSecurity(store);
  const api = createApi({ store, engine: fakeEngineForApiTests(store, () => spec), security, spec: () => spec, log: silentLogger });
  const res = await api.app.request("/v1/openapi.json");
  expect(res.status).toBe(200);
  const doc = (await res.json()) as OpenApiDocument;
  await security.stop();
  store.close();
  return doc;
}

const newAjv = () => {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  (addFormats as unknown as (a: Ajv2020) => void)(ajv);
  // RFC 9110 media ranges (content map keys): type/subtype, either may be *, parameters allowed.
  ajv.addFormat("media-range", /^(\*|[\w!#$&^.+-]+)\/(\*|[\w!#$&^.+-]+)(\s*;.*)?$/);
  return ajv;
};

describe("the OpenAPI document against the OpenAPI 3.1 schema", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    expect(OAS_SCHEMA.$id).toBe("https://spec.openapis.org/oas/3.1/schema/2022-10-07");
    const validate = newAjv().compile(ajvReadySchema());
    const doc = await servedDocument();
    const ok = validate(doc);
    expect(validate.errors?.slice(0, 10) ?? []).toEqual([]);
    expect(ok).toBe(true);
    // Mutations document their Idempotency-Key and its two refusals; reads do not take one.
    const create = doc.paths["/v1/releases"].post;
    expect(create.parameters).toContainEqual(expect.objectContaining({ name: "Idempotency-Key", in: "header", required: false }));
    expect(Object.keys(create.responses)).toEqual(expect.arrayContaining(["409", "422"]));
    expect(doc.paths["/v1/releases"].get.parameters.map((p) => p.name)).not.toContain("Idempotency-Key");
  });

  it("a broken document fails the same check (the check is not vacuous)", async () => {
    const validate = newAjv().compile(ajvReadySchema());
    const doc = await servedDocument();
    const op = doc.paths["/v1/releases"].post;
    op.parameters.push({ name: "x", in: "body", schema: { type: "string" } });
    expect(validate(doc)).toBe(false);
    const noInfo = { ...(await servedDocument()), info: { title: "no version" } };
    expect(validate(noInfo)).toBe(false);
    // A Schema Object must be an object or a boolean: caught too (the $dynamicRef rewrite is live).
    const badSchema = await servedDocument();
    (badSchema.components.schemas as Record<string, unknown>)["Release"] = 42;
    expect(validate(badSchema)).toBe(false);
  });

  it("every component schema is valid JSON Schema 2020-12, and every response and body refers to one", async () => {
    const ajv = newAjv();
    const doc = await servedDocument();
    for (const [name, schema] of Object.entries(doc.components.schemas)) {
      const ok = ajv.validateSchema(schema);
      expect({ name, errors: ok ? [] : ajv.errors }).toEqual({ name, errors: [] });
    }
    // The whole components object compiles (every $ref between components resolves).
    const all = { $id: "https://cbo.invalid/components", $defs: doc.components.schemas };
    const rewritten = JSON.parse(JSON.stringify(all).replaceAll('"#/components/schemas/', '"#/$defs/'));
    expect(() => ajv.compile(rewritten)).not.toThrow();
  });
});
