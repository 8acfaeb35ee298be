// Planted secrets against the real daemon in its own process (support/daemon-child.ts): 5 secrets
// with unique values, two versions each, go in through the API; one value is read once; every
// secret is rolled back, deleted and undeleted; requests that fail on purpose carry values too.
// Then every HTTP response (except the one read), the daemon's stderr (its log), the audit table,
// the shipped checkpoint file, the audit export and the SQLite files' bytes are searched for each
// value, as text, base64 and hex: none may appear. Failures report where and which secret (by
// index), never the value.
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as z from "zod";
import type { CreatedTokenSchema } from "../src/contract/index.ts";
import { call, type Answer } from "./support/api-fixtures.ts";
import { makeTempDir } from "./support/edge.ts";
import { startDaemonChild } from "./support/daemon-process.ts";
import { UNREACHABLE_EDGE as EDGE } from "./support/daemon-rig.ts";

type CreatedToken = z.infer<typeof CreatedTokenSchema>;

const NAMES = ["DB_PASSWORD", "STRIPE_KEY", "SIGNING_SEED", "WEBHOOK_SECRET", "OAUTH_CLIENT"];

/** Unique values: v1 and v2 of each secret, and values only ever sent in refused requests. */
const planted = {
  v1: NAMES.map((_, i) => `planted-v1-${i}-${randomBytes(12).toString("hex")}`),
  v2: NAMES.map((_, i) => `planted-v2-${i}-${randomBytes(12).toString("hex")}`),
  refused: Array.from({ length: 6 }, (_, i) => `planted-refused-${i}-${randomBytes(12).toString("hex")}`),
};
const all = [...planted.v1, ...planted.v2, ...planted.refused];
const forms = (v: string) => {
  const b = Buffer.from(v);
  return [v, b.toString("base64"), b.toString("base64").replace(/=+$/, ""), b.toString("base64url"), b.toString("hex")];
};

/** Where any planted value (in any form) occurs in `haystack`: [where, index of the value]. */
function leaks(where: string, haystack: string | Buffer): Array<[string, number]> {
  const found: Array<[string, number]> = [];
  all.forEach((v, i) => {
    for (const form of forms(v)) if (haystack.includes(form)) return void found.push([where, i]);
  });
  return found;
}

describe("planted secrets never leak from the daemon", () => {
  let dir: string;
  let stderr: () => string;
  let child: ChildProcess;
  let exited: Promise<number | null>;
  const responses: Array<{ label: string; answer: Answer }> = [];
  let readOnce: Answer | undefined;

  beforeAll(async () => {
    dir = await makeTempDir("daemon-leak");
    writeFileSync(join(dir, "orchestrator.yaml"), "version: 1\ntargets:\n  - { name: eu, api: local }\n");
    const started = await startDaemonChild(
      { dataDir: join(dir, "data"), configFile: join(dir, "orchestrator.yaml"), edge: EDGE, checkpointEveryMs: 100 },
      randomBytes(32).toString("base64"),
      30_000,
    );
    ({ child, exited } = started);
    const { url, adminTokenFile } = started;
    stderr = started.stderr;
    const admin = readFileSync(adminTokenFile, "utf8").trim();
    const req = async <T = unknown>(label: string, method: string, path: string, opts: Parameters<typeof call>[3] = {}) => {
      const answer = await call<T>(url, method, path, opts);
      responses.push({ label: `${label} -> ${answer.status}`, answer });
      return answer;
    };
    const deployer = (
      await req<CreatedToken>("create deployer token", "POST", "/v1/tokens", {
        token: admin,
        json: { name: "leak deployer", role: "deployer" },
      })
    ).body.token;
    const viewer = (
      await req<CreatedToken>("create viewer token", "POST", "/v1/tokens", { token: admin, json: { name: "leak viewer", role: "viewer" } })
    ).body.token;

    for (const [i, name] of NAMES.entries()) {
      // One secret goes in base64 (as the CLI sends a binary file), one as a binding tagged eu.
      const v1 = i === 2 ? { value: Buffer.from(planted.v1[i]!).toString("base64"), encoding: "base64" } : { value: planted.v1[i] };
      await req(`put v1 ${i}`, "PUT", `/v1/secrets/${name}`, {
        token: deployer,
        json: { ...v1, cas: 0, ...(i === 1 ? { mode: "binding", jurisdictions: ["eu"] } : {}) },
      });
      await req(`put v2 ${i}`, "PUT", `/v1/secrets/${name}`, { token: deployer, json: { value: planted.v2[i], cas: 1 } });
    }
    // Refused on purpose, each carrying a value: stale cas, viewer, unknown key, bad base64, bad JSON, too large.
    await req("stale cas", "PUT", `/v1/secrets/${NAMES[0]}`, { token: deployer, json: { value: planted.refused[0], cas: 1 } });
    await req("viewer put", "PUT", `/v1/secrets/${NAMES[0]}`, { token: viewer, json: { value: planted.refused[1] } });
    await req("unknown key", "PUT", `/v1/secrets/${NAMES[0]}`, { token: deployer, json: { value: planted.refused[2], colour: "red" } });
    await req("bad base64", "PUT", `/v1/secrets/${NAMES[0]}`, {
      token: deployer,
      json: { value: `${planted.refused[3]}!`, encoding: "base64" },
    });
    await req("bad json", "PUT", `/v1/secrets/${NAMES[0]}`, { token: deployer, body: `{"value": "${planted.refused[4]}"` });
    await req("too large", "PUT", `/v1/secrets/${NAMES[0]}`, { token: deployer, json: { value: planted.refused[5].repeat(3000) } });
    await req("bad token", "PUT", `/v1/secrets/${NAMES[0]}`, {
      token: `cbo_admin_${planted.refused[0]}`,
      json: { value: planted.refused[0] },
    });

    // The one read.
    readOnce = await call(url, "GET", `/v1/secrets/${NAMES[3]}/value`, { token: admin });
    for (const [i, name] of NAMES.entries()) {
      await req(`rollback ${i}`, "POST", `/v1/secrets/${name}/rollback`, { token: deployer, json: { to: 1, cas: 2 } });
      await req(`delete ${i}`, "DELETE", `/v1/secrets/${name}?cas=3`, { token: deployer });
      await req(`read deleted ${i}`, "GET", `/v1/secrets/${name}/value`, { token: admin });
      await req(`undelete ${i}`, "POST", `/v1/secrets/${name}/undelete`, { token: admin });
      await req(`versions ${i}`, "GET", `/v1/secrets/${name}/versions`, { token: viewer });
    }
    await req("viewer read", "GET", `/v1/secrets/${NAMES[0]}/value`, { token: viewer });
    await req("list", "GET", "/v1/secrets", { token: viewer });
    await req("audit", "GET", "/v1/audit?limit=10000", { token: admin });
    await req("audit text search", "GET", `/v1/audit?text=${planted.v1[0]!.slice(0, 20)}`, { token: admin });
    await req("checkpoints", "GET", "/v1/audit/checkpoints", { token: admin });
    await req("export", "GET", "/v1/audit/export", { token: admin });
    await req("verify", "POST", "/v1/audit/verify", { token: admin });
    await req("events", "GET", "/v1/events", { token: admin });
    await req("key", "GET", "/v1/keys/orchestrator", { token: viewer });
    await req("tokens", "GET", "/v1/tokens", { token: admin });
    await req("openapi", "GET", "/v1/openapi.json");

    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });
  afterAll(async () => {
    if (child?.exitCode === null) child.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
  });

  it("did the work it claims (the scan has something to find)", () => {
    const statuses = Object.fromEntries(responses.map((r) => [r.label.split(" -> ")[0], r.answer.status]));
    expect(statuses).toMatchObject({
      "put v1 0": 200,
      "put v2 4": 200,
      "stale cas": 409,
      "viewer put": 403,
      "unknown key": 400,
      "bad base64": 400,
      "bad json": 400,
      "too large": 400,
      "bad token": 401,
      "rollback 4": 200,
      "delete 4": 200,
      "read deleted 4": 404,
      "undelete 4": 200,
      "viewer read": 403,
    });
    // The read is the positive control: the scanner does find a value where one is.
    expect(readOnce!.body).toMatchObject({ name: NAMES[3], version: 2, encoding: "utf8" });
    expect(leaks("read", readOnce!.text)).toEqual([["read", planted.v1.length + 3]]);
    expect(responses.length).toBeGreaterThan(40);
  });

  it("no response, log line, audit entry, export or database byte holds a value", () => {
    const found: Array<[string, number]> = [];
    for (const r of responses) found.push(...leaks(`response ${r.label}`, r.answer.text));
    found.push(...leaks("daemon stderr", stderr()));
    const data = join(dir, "data");
    found.push(...leaks("audit-checkpoints.jsonl", readFileSync(join(data, "audit-checkpoints.jsonl"))));
    const db = new DatabaseSync(join(data, "orchestrator.sqlite"), { readOnly: true });
    try {
      const audit = JSON.stringify(db.prepare("SELECT * FROM audit_entries ORDER BY seq").all());
      expect(audit).toContain("secret.read");
      found.push(...leaks("audit_entries", audit));
      found.push(...leaks("secrets metadata", JSON.stringify(db.prepare("SELECT * FROM secrets").all())));
    } finally {
      db.close();
    }
    for (const f of ["orchestrator.sqlite", "orchestrator.sqlite-wal", "orchestrator.sqlite-shm"]) {
      if (existsSync(join(data, f))) found.push(...leaks(f, readFileSync(join(data, f))));
    }
    expect(found).toEqual([]);
  });

  it("the log says what happened, with keyed hashes only", () => {
    const audit = (
      responses.find((r) => r.label.startsWith("audit "))!.answer.body as {
        items: Array<{ action: string; outcome: string; target: string; details: Record<string, unknown> }>;
      }
    ).items;
    const ok = (a: string) =>
      audit.filter((e) => e.action === a && e.outcome === "ok" && e.target !== "secret:__orchestrator_signing_key").length;
    expect({ put: ok("secret.put"), rollback: ok("secret.rollback"), del: ok("secret.delete"), undel: ok("secret.undelete") }).toEqual({
      put: 10,
      rollback: 5,
      del: 5,
      undel: 5,
    });
    // Refused writes that reached the vault's checks are on the record as errors (their values are not).
    expect(
      audit
        .filter((e) => e.action === "secret.put" && e.outcome === "error")
        .map((e) => e.details.code)
        .sort(),
    ).toEqual(["ERR_CONFLICT", "ERR_VALIDATION", "ERR_VALIDATION"]);
    const reads = audit.filter((e) => e.action === "secret.read" && e.details.purpose === "get" && e.outcome === "ok");
    expect(reads).toEqual([
      expect.objectContaining({
        target: `secret:${NAMES[3]}`,
        details: {
          version: 2,
          purpose: "get",
          valueHash: expect.stringMatching(/^[0-9a-f]{64}$/),
          trace_id: expect.stringMatching(/^[0-9a-f]{32}$/),
        },
      }),
    ]);
    expect(stderr()).toMatch(/vault: new vault sealed/);
  });
});
