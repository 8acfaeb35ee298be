import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createStore } from "./index.ts";

const fresh = () => createStore(join(mkdtempSync(join(tmpdir(), "cbo-store-")), "orchestrator.sqlite"));

describe("store", () => {
  it("migrates once and keeps data across reopen", () => {
    const dir = mkdtempSync(join(tmpdir(), "cbo-store-"));
    const a = createStore(join(dir, "o.sqlite"));
    a.catalog.upsertTarget({
      tenant: "default",
      name: "eu",
      api: "local",
      account_id: "a".repeat(32),
      region: "eu",
      jurisdiction: "eu",
      kv_namespace: null,
    });
    a.close();
    const b = createStore(join(dir, "o.sqlite"));
    expect(b.catalog.targets().map((t) => t.name)).toEqual(["eu"]);
    expect((b.db.prepare("SELECT COUNT(*) AS n FROM schema_migrations").get() as { n: number }).n).toBeGreaterThanOrEqual(1);
    b.close();
  });

  it("appends events in order, lists after an id, and notifies subscribers", () => {
    const s = fresh();
    const seen: number[] = [];
    const off = s.events.subscribe((e) => seen.push(e.id));
    // Payloads as the engine writes them (the contract's typed event map), read back as written.
    const created = {
      by: null,
      bundleHash: "h",
      waves: [["eu"]],
      steps: [10, 100],
      apiCalls: 3,
      targets: [{ target: "eu", previousVersionId: null }],
    };
    const step = {
      percent: 10,
      versionId: "v2",
      previousVersionId: "v1",
      split: [
        { versionId: "v1", percentage: 90 },
        { versionId: "v2", percentage: 10 },
      ],
    };
    const succeeded = { versions: { eu: "v2" } };
    const e1 = s.events.append({ type: "release.created", release_id: "r1", worker: "api", data: created });
    const e2 = s.events.append({ type: "release.step.started", release_id: "r1", worker: "api", target: "eu", data: step });
    s.events.append({ type: "release.created", release_id: "r2", worker: "api", data: created });
    off();
    s.events.append({ type: "release.succeeded", release_id: "r1", data: succeeded });
    expect(seen).toEqual([e1.id, e2.id, e2.id + 1]);
    expect(s.events.list({ after: e1.id, releaseId: "r1" }).map((e) => [e.type, e.data])).toEqual([
      ["release.step.started", step],
      ["release.succeeded", succeeded],
    ]);
    expect(s.events.lastId()).toBe(e2.id + 2);
    s.close();
  });

  it("lists the newest events when asked (newest first), or the oldest after an id", () => {
    const s = fresh();
    const ids = Array.from(
      { length: 12 },
      () => s.events.append({ type: "config.write_failed", worker: "api", target: "eu", data: { version: 1, error: "x" } }).id,
    );
    // `cbo events --limit 8`: the newest eight (asked newest first).
    expect(s.events.list({ limit: 8, order: "desc" }).map((e) => e.id)).toEqual(ids.slice(-8).reverse());
    expect(s.events.list({ limit: 8 }).map((e) => e.id)).toEqual(ids.slice(0, 8));
    expect(s.events.list({ after: ids[1], limit: 3 }).map((e) => e.id)).toEqual(ids.slice(2, 5));
    expect(s.events.list({ after: ids[9], limit: 8, order: "desc" }).map((e) => e.id)).toEqual(ids.slice(10).reverse());
    s.close();
  });

  it("journals releases in sequence and finds unfinished ones", () => {
    const s = fresh();
    s.releases.insert({
      id: "r1",
      tenant: "default",
      worker: "api",
      kind: "release",
      status: "running",
      reason: null,
      plan: { steps: [10, 100] },
      created_by: "test",
    });
    s.releases.journal("r1", "upload.intent", "eu");
    s.releases.journal("r1", "uploaded", "eu", { versionId: "v2", previousVersionId: "v1" });
    expect(s.releases.entries("r1").map((e) => [e.seq, e.kind, e.data])).toEqual([
      [1, "upload.intent", {}],
      [2, "uploaded", { versionId: "v2", previousVersionId: "v1" }],
    ]);
    expect(s.releases.unfinished().map((r) => r.id)).toEqual(["r1"]);
    s.releases.setStatus("r1", "rolled_back", "gate failed");
    expect(s.releases.unfinished()).toEqual([]);
    expect(s.releases.get("r1")).toMatchObject({ status: "rolled_back", reason: "gate failed", plan: { steps: [10, 100] } });
    s.close();
  });

  it("stores tokens only as hashes; verify honours revocation and expiry", () => {
    const s = fresh();
    const { token, row } = s.tokens.create({ name: "ci", role: "deployer" });
    const rows = s.db.prepare("SELECT * FROM tokens").all() as Array<Record<string, unknown>>;
    expect(JSON.stringify(rows)).not.toContain(token);
    expect(s.tokens.verify(token)?.role).toBe("deployer");
    expect(s.tokens.verify(token + "x")).toBeUndefined();
    const expired = s.tokens.create({ name: "old", role: "viewer", expiresAt: new Date(Date.now() - 1000).toISOString() });
    expect(s.tokens.verify(expired.token)).toBeUndefined();
    expect(s.tokens.revoke(row.id)).toBe(true);
    expect(s.tokens.verify(token)).toBeUndefined();
    s.close();
  });

  it("reports health transitions only", () => {
    const s = fresh();
    const o = { tenant: "default", worker: "api", target: "eu", versionId: null, latencyMs: 3, detail: null };
    expect(s.health.observe({ ...o, status: "healthy" })).toBe("new");
    expect(s.health.observe({ ...o, status: "healthy" })).toBeUndefined();
    expect(s.health.observe({ ...o, status: "unhealthy", detail: "HTTP 503" })).toBe("healthy");
    expect(s.health.list()[0]).toMatchObject({ status: "unhealthy", detail: "HTTP 503" });
    s.close();
  });
});
