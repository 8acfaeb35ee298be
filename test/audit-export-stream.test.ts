// GET /v1/audit/export is streamed: the log is read a page at a time as the client reads, never
// built whole in memory. Checked on a real SQLite store with a real signing key:
//   - exportStream reads pages only as its reader pulls (the store's page reads are counted), and
//     what it sends verifies offline against the orchestrator's public key;
//   - over real HTTP, entries appended while a client is mid-export are not in that export (the
//     header's counts were fixed when it started) and the answer still verifies; the answer is sent
//     chunked, without a length known up front;
//   - a client that goes away mid-export leaves the daemon serving, nothing logged.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportStream } from "../src/audit/export.ts";
import { parseAuditExport, verifyAuditLog } from "../src/audit/index.ts";
import type { Db } from "../src/store/db.ts";
import { call, startApiFixture, type ApiFixture } from "./support/api-fixtures.ts";

const ENTRIES = 3_000;

/** The store's connection, with the export's page query counted (every other call passes through). */
function countingPages(db: Db): { db: Db; pages: () => number } {
  let pages = 0;
  const bind = <T extends object>(target: T, key: PropertyKey) => {
    const v = Reflect.get(target, key, target) as unknown;
    return typeof v === "function" ? v.bind(target) : v;
  };
  const proxy = new Proxy(db, {
    get(target, key) {
      if (key !== "prepare") return bind(target, key);
      return (sql: string) => {
        const stmt = target.prepare(sql);
        if (!/FROM audit_entries WHERE seq > \? AND seq <= \? ORDER BY seq LIMIT \?/.test(sql)) return stmt;
        return new Proxy(stmt, {
          get(s, k) {
            if (k === "all") return (...args: Parameters<typeof s.all>) => (pages++, s.all(...args));
            return bind(s, k);
          },
        });
      };
    },
  });
  return { db: proxy, pages: () => pages };
}

async function readRest(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  for (let r = await reader.read(); !r.done; r = await reader.read()) text += decoder.decode(r.value, { stream: true });
  return text + decoder.decode();
}

describe("the audit export is streamed", () => {
  let f: ApiFixture;
  let publicKey: Uint8Array;
  const admin = () => ({ authorization: `Bearer ${f.tokens.admin}` });
  const appendBurst = (n: number, tag: string) =>
    f.security.audit.appendMany(
      Array.from({ length: n }, (_, i) => ({
        actor: "test",
        action: "test.fill",
        target: `item:${tag}-${i}`,
        outcome: "ok" as const,
        details: { i, pad: "x".repeat(200) },
      })),
    );

  beforeAll(async () => {
    f = await startApiFixture({ security: { checkpointEvery: { entries: 1_000_000, ms: 3_600_000 } } });
    appendBurst(ENTRIES, "a");
    await f.security.audit.checkpoint();
    publicKey = Buffer.from(f.security.orchestratorKey.publicKey, "base64url");
  });
  afterAll(async () => {
    await f?.close();
  });

  it("reads the log a page at a time, as the reader pulls, and the result verifies offline", async () => {
    const { db, pages } = countingPages(f.store.db);
    const stream = exportStream(db, { include: "all", pageRows: 100, chunkBytes: 16 * 1024 });
    // The first chunk is made before the stream is returned (so an unreadable log fails as an answer).
    const afterStart = pages();
    expect(afterStart).toBeGreaterThanOrEqual(1);
    expect(afterStart).toBeLessThanOrEqual(2);
    const reader = stream.getReader();
    const first = await reader.read();
    expect(first.done).toBe(false);
    expect(pages()).toBeLessThanOrEqual(2);
    const rest = await readRest(reader);
    const head = f.security.audit.head().seq;
    // Every page once: ceil(head / 100) full pages, then the short (here: empty) last one.
    expect(pages()).toBe(Math.floor(head / 100) + 1);
    const text = new TextDecoder().decode(first.value) + rest;
    const parsed = parseAuditExport(text);
    expect(parsed.header).toMatchObject({ entries: head, checkpoints: 1 });
    expect(parsed.entries.length).toBe(head);
    expect(await verifyAuditLog({ entries: parsed.entries, checkpoints: parsed.checkpoints, publicKey })).toMatchObject({
      ok: true,
      checked: head,
    });
  });

  it("over HTTP: chunked, consistent while the log grows underneath, and it verifies", async () => {
    const headAtStart = f.security.audit.head().seq;
    const res = await fetch(`${f.url}/v1/audit/export`, { headers: admin() });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/x-ndjson/);
    expect(res.headers.get("content-length")).toBeNull();
    expect(res.headers.get("transfer-encoding")).toBe("chunked");
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(first.done).toBe(false);
    // Appended mid-export: after the header was written, so not in this export.
    appendBurst(50, "b");
    const text = new TextDecoder().decode(first.value) + (await readRest(reader));
    const parsed = parseAuditExport(text);
    // The header counts the entries there were when the answer started, and exactly those follow.
    expect(parsed.header!.entries).toBe(headAtStart);
    expect(parsed.entries.length).toBe(headAtStart);
    expect(parsed.entries.at(-1)).toMatchObject({ seq: headAtStart });
    expect(await verifyAuditLog({ entries: parsed.entries, checkpoints: parsed.checkpoints, publicKey })).toMatchObject({ ok: true });
    // The checkpoints-only export stays what it was.
    const cps = parseAuditExport((await call(f.url, "GET", "/v1/audit/export?include=checkpoints", { token: f.tokens.admin })).text);
    expect([cps.entries.length, cps.checkpoints.length]).toEqual([0, 1]);
  });

  it("a client that leaves mid-export costs nothing: the daemon keeps serving and logs no error", async () => {
    const controller = new AbortController();
    const res = await fetch(`${f.url}/v1/audit/export`, { headers: admin(), signal: controller.signal });
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    await reader.read().catch(() => undefined);
    const again = await call(f.url, "GET", "/v1/audit?limit=1", { token: f.tokens.admin });
    expect(again.status).toBe(200);
    const full = parseAuditExport((await call(f.url, "GET", "/v1/audit/export", { token: f.tokens.admin })).text);
    expect(full.entries.length).toBe(f.security.audit.head().seq);
    expect(f.logged.filter((l) => /error|fail/i.test(l))).toEqual([]);
  });

  it("refuses every role below admin before reading anything", async () => {
    for (const role of ["viewer", "deployer", "agent"] as const) {
      expect((await call(f.url, "GET", "/v1/audit/export", { token: f.tokens[role] })).status).toBe(403);
    }
    expect((await call(f.url, "GET", "/v1/audit/export")).status).toBe(401);
  });
});
