// Cursor pagination over real HTTP and a real SQLite store: the daemon client walks every page of
// releases, events, the audit log and a worker's versions while new entries are inserted between
// pages, and sees every entry that existed when it started exactly once, in order (keyset cursors:
// no duplicate, no gap). A cursor of another list, of another query or of nothing is refused.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allItems, createDaemonClient, type DaemonClient } from "../src/client/index.ts";
import type { ErrorBody, Page } from "../src/contract/index.ts";
import { call, startApiFixture, type ApiFixture } from "./support/api-fixtures.ts";

describe("cursor pagination", () => {
  let f: ApiFixture;
  let client: DaemonClient;
  let n = 0;
  const release = () =>
    f.store.releases.insert({
      id: `rel-${String(++n).padStart(4, "0")}-${Math.random().toString(36).slice(2, 6)}`,
      tenant: "default",
      worker: "hello",
      kind: "release",
      status: "succeeded",
      reason: null,
      plan: {},
      created_by: "test",
    });
  const event = () =>
    f.store.events.append({
      type: "health.changed",
      worker: "hello",
      target: "eu",
      data: { from: "unknown", to: "healthy", versionId: null, latencyMs: 1, detail: `n=${++n}` },
    });
  const audit = () => f.security.audit.append({ actor: "test", action: "test.page", outcome: "ok", details: { n: ++n } });
  const version = () =>
    f.store.catalog.recordVersion({
      tenant: "default",
      worker: "hello",
      target: ["eu", "us", "ap"][n % 3]!,
      version_id: `v-${String(++n).padStart(5, "0")}`,
      release_id: null,
      bundle_hash: null,
    });

  /** Walks every page, inserting `perPage` new entries after each one is read. */
  async function walk<T>(pagesOf: AsyncGenerator<Page<T>>, insert: () => unknown, perPage = 3): Promise<{ items: T[]; pages: number }> {
    const items: T[] = [];
    let pages = 0;
    for await (const p of pagesOf) {
      pages++;
      items.push(...p.items);
      for (let i = 0; i < perPage; i++) insert();
    }
    return { items, pages };
  }

  beforeAll(async () => {
    f = await startApiFixture();
    client = createDaemonClient({ url: f.url, token: f.tokens.admin });
    // Many in the same millisecond: ties on created_at are broken by insertion order, not lost.
    for (let i = 0; i < 95; i++) release(), event(), audit(), version();
  });
  afterAll(async () => {
    await f?.close();
  });

  it("releases, newest first: every existing one once, whatever starts meanwhile", async () => {
    const existing = f.store.releases.list({ limit: 1000 }).map((r) => r.id);
    expect(existing.length).toBe(95);
    const { items, pages } = await walk(client.releasePages({ limit: 10 }), release);
    expect(pages).toBe(10);
    expect(items.map((r) => r.id)).toEqual(existing);
  });

  it("events, oldest first: every event once, in id order, new ones picked up at the end", async () => {
    const existing = f.store.events.list({ limit: 10_000 }).map((e) => e.id);
    const { items } = await walk(client.eventPages({ limit: 7 }), event, 1);
    const ids = items.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(ids.slice(0, existing.length)).toEqual(existing);
    // Newest first as well (the last N): pages go down, never repeat.
    const desc = await walk(client.eventPages({ limit: 9, order: "desc" }), event);
    const down = desc.items.map((e) => e.id);
    expect(down).toEqual([...new Set(down)].sort((a, b) => b - a));
    expect(down.at(-1)).toBe(existing[0]);
  });

  it("the audit log, newest first: every entry once, with filters", async () => {
    const existing = f.security.audit.search({ action: "test.page", limit: 10_000 }).map((e) => e.seq);
    const { items, pages } = await walk(client.auditPages({ action: "test.page", limit: 20 }), audit);
    expect(pages).toBe(Math.ceil(existing.length / 20));
    expect(items.map((e) => e.seq)).toEqual(existing.reverse());
  });

  it("a worker's versions, newest first: every version once", async () => {
    const existing = f.store.catalog.versions("default", "hello", undefined, 1000).map((v) => `${v.target}/${v.version_id}`);
    const items = await allItems(client.versionPages("hello", { limit: 8 }));
    expect(items.map((v) => `${v.target}/${v.versionId}`)).toEqual(existing);
    const { items: during } = await walk(client.versionPages("hello", { limit: 8 }), version);
    expect(during.map((v) => `${v.target}/${v.versionId}`)).toEqual(existing);
  });

  it("the last page has no next; a cursor of another list, another query or nothing is refused", async () => {
    const first = await client.releases({ limit: 5 });
    expect(first.next).toEqual(expect.any(String));
    expect((await client.releases({ limit: 1000 })).next).toBeUndefined();
    const bad = async (path: string) => {
      const r = await call<ErrorBody>(f.url, "GET", path, { token: f.tokens.viewer });
      expect(r.status, path).toBe(400);
      expect(r.body.error.code).toBe("ERR_VALIDATION");
      return r.body.error.message;
    };
    expect(await bad(`/v1/events?cursor=${first.next}`)).toMatch(/not a cursor of this list/);
    expect(await bad(`/v1/releases?worker=hello&cursor=${first.next}`)).toMatch(/other filters/);
    expect(await bad("/v1/releases?cursor=not-a-cursor")).toMatch(/not a cursor/);
  });
});
