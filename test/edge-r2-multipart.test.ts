// R2 multipart uploads through a Worker's binding on the local edge (real workerd, the edge's R2
// store): createMultipartUpload / uploadPart / complete make one object of the parts in order,
// with R2's etag (md5 of the parts' md5s, "-", the count); resumeMultipartUpload continues in another
// request; R2's rules and words for a part too small, an unknown or aborted upload, a wrong etag.
import { createHash } from "node:crypto";
import { readdirSync, rmSync, writeFileSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCloudflareClient } from "../src/cloudflare/index.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { httpGet } from "./support/http.ts";

const MIB = 1024 * 1024;

// Part n (1-based) of `size` bytes: byte i is (n * 31 + i) mod 251, so every part differs.
const WORKER = `
const part = (n, size) => { const b = new Uint8Array(size); for (let i = 0; i < size; i++) b[i] = (n * 31 + i) % 251; return b; };
const answer = async (fn) => { try { return Response.json(await fn()); } catch (e) { return Response.json({ error: String(e.message) }, { status: 500 }); } };
export default {
  async fetch(req, env) {
    const u = new URL(req.url);
    const q = (k) => u.searchParams.get(k);
    const key = q("key") ?? "big";
    if (u.pathname === "/create") return answer(async () => {
      const up = await env.BUCKET.createMultipartUpload(key, { httpMetadata: { contentType: "application/x-test" }, customMetadata: { by: "mpu" } });
      return { key: up.key, uploadId: up.uploadId };
    });
    if (u.pathname === "/part") return answer(() => env.BUCKET.resumeMultipartUpload(key, q("id")).uploadPart(Number(q("n")), part(Number(q("n")), Number(q("size")))));
    if (u.pathname === "/complete") return answer(async () => {
      const o = await env.BUCKET.resumeMultipartUpload(key, q("id")).complete(JSON.parse(q("parts")));
      return { key: o.key, size: o.size, etag: o.etag, httpEtag: o.httpEtag, customMetadata: o.customMetadata, contentType: o.httpMetadata?.contentType };
    });
    if (u.pathname === "/abort") return answer(async () => { await env.BUCKET.resumeMultipartUpload(key, q("id")).abort(); return {}; });
    if (u.pathname === "/read") return answer(async () => {
      const o = await env.BUCKET.get(key);
      const bytes = new Uint8Array(await o.arrayBuffer());
      const digest = [...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");
      return { size: bytes.length, sha256: digest };
    });
    return new Response("no", { status: 404 });
  },
};`;

/** What the test expects part n of `size` bytes to be (as the Worker makes it). */
const partBytes = (n: number, size: number) => {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (n * 31 + i) % 251;
  return b;
};
const md5 = (b: Buffer) => createHash("md5").update(b).digest();

describe("R2 multipart uploads through a Worker's binding", () => {
  let t: TestEdge;
  const call = async <T = Record<string, unknown>>(path: string): Promise<{ status: number; body: T }> => {
    const r = await httpGet(t.region.port, "mpu.localhost", { path, timeoutMs: 60_000 });
    return { status: r.status, body: JSON.parse(r.body) as T };
  };
  const create = async (key: string) => (await call<{ uploadId: string }>(`/create?key=${key}`)).body.uploadId;
  const part = async (key: string, id: string, n: number, size: number) =>
    call<{ partNumber: number; etag: string; error?: string }>(`/part?key=${key}&id=${id}&n=${n}&size=${size}`);

  beforeAll(async () => {
    t = await startTestEdge();
    const cf = createCloudflareClient({ baseUrl: t.edge.apiUrl, apiToken: t.edge.token, accountId: t.region.accountId });
    const made = await fetch(`${t.edge.apiUrl}/accounts/${t.region.accountId}/r2/buckets`, {
      method: "POST",
      headers: { authorization: `Bearer ${t.edge.token}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "uploads" }),
    });
    expect(made.status).toBe(200);
    await cf.deploy("mpu", {
      mainModule: "index.js",
      modules: [{ name: "index.js", content: WORKER }],
      compatibilityDate: "2025-01-01",
      bindings: [{ type: "r2_bucket", name: "BUCKET", bucket_name: "uploads" }],
    });
  });
  afterAll(async () => t?.dispose());

  it("parts uploaded out of order (one sent twice) make one object in part order, with R2's multipart etag", async () => {
    const id = await create("big");
    const sizes = [5 * MIB, 5 * MIB, 1234];
    // Part 2 first, then 3, then 1; part 3 again with the same bytes replaces the first copy.
    const sent: Record<number, { partNumber: number; etag: string }> = {};
    for (const n of [2, 3, 1, 3]) {
      const r = await part("big", id, n, sizes[n - 1]!);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      sent[n] = r.body;
    }
    const whole = Buffer.concat(sizes.map((s, i) => partBytes(i + 1, s)));
    for (const n of [1, 2, 3]) expect(sent[n]!.etag).toBe(md5(partBytes(n, sizes[n - 1]!)).toString("hex"));
    const parts = JSON.stringify([sent[3], sent[1], sent[2]]);
    const done = await call(`/complete?key=big&id=${id}&parts=${encodeURIComponent(parts)}`);
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    const etag = `${createHash("md5")
      .update(Buffer.concat([1, 2, 3].map((n) => md5(partBytes(n, sizes[n - 1]!)))))
      .digest("hex")}-3`;
    expect(done.body).toEqual({
      key: "big",
      size: whole.length,
      etag,
      httpEtag: `"${etag}"`,
      customMetadata: { by: "mpu" },
      contentType: "application/x-test",
    });
    expect((await call("/read?key=big")).body).toEqual({ size: whole.length, sha256: createHash("sha256").update(whole).digest("hex") });
    // Completed: the upload is gone.
    expect((await part("big", id, 4, 10)).body.error).toBe("uploadPart: The specified multipart upload does not exist. (10024)");
  });

  it("refuses what R2 refuses, in its words: a part below 5 MiB before the last, a wrong etag, an unknown or aborted upload", async () => {
    const id = await create("small");
    const p1 = (await part("small", id, 1, 1000)).body;
    const p2 = (await part("small", id, 2, 1000)).body;
    const tooSmall = await call(`/complete?key=small&id=${id}&parts=${encodeURIComponent(JSON.stringify([p1, p2]))}`);
    expect(tooSmall.status).toBe(500);
    expect(tooSmall.body).toEqual({
      error: "completeMultipartUpload: Your proposed upload is smaller than the minimum allowed object size. (10011)",
    });
    const wrong = await call(
      `/complete?key=small&id=${id}&parts=${encodeURIComponent(JSON.stringify([{ partNumber: 1, etag: "0".repeat(32) }]))}`,
    );
    expect((wrong.body as { error: string }).error).toMatch(
      /^completeMultipartUpload: One or more of the specified parts could not be found .*\(10025\)$/,
    );
    // A single small part is a whole object (the last part may be any size); a refused complete changed nothing.
    const one = await call(`/complete?key=small&id=${id}&parts=${encodeURIComponent(JSON.stringify([p1]))}`);
    expect(one.body).toMatchObject({ key: "small", size: 1000 });

    expect((await part("small", "not-an-upload", 1, 10)).body.error).toBe(
      "uploadPart: The specified multipart upload does not exist. (10024)",
    );
    const aborted = await create("gone");
    await part("gone", aborted, 1, 10);
    expect((await call(`/abort?key=gone&id=${aborted}`)).status).toBe(200);
    expect((await part("gone", aborted, 2, 10)).body.error).toBe("uploadPart: The specified multipart upload does not exist. (10024)");
    expect((await call("/read?key=gone")).status).toBe(500);
    // Another key's upload id is not this key's.
    const other = await create("mine");
    expect((await part("yours", other, 1, 10)).body.error).toBe("uploadPart: The specified multipart upload does not exist. (10024)");
    // workerd's binding refuses a part number out of range itself, before R2 sees it.
    expect((await part("mine", other, 0, 10)).body.error).toBe("Part number must be between 1 and 10000 (inclusive). Actual value was: 0");
  });

  it("complete sent twice at once makes one object; the second is told the upload is gone (10024), as is an abort racing a complete", async () => {
    const sizes = [5 * MIB, 5 * MIB, 5 * MIB, 1000];
    const upload = async (key: string) => {
      const id = await create(key);
      const sent = [];
      for (const [i, s] of sizes.entries()) sent.push((await part(key, id, i + 1, s)).body);
      return { id, parts: encodeURIComponent(JSON.stringify(sent)) };
    };
    const files = () => readdirSync(join(t.dataDir, "r2"), { recursive: true, withFileTypes: true }).filter((f) => f.isFile()).length;
    const before = files();
    const twice = await upload("twice");
    const answers = await Promise.all([1, 2].map(() => call(`/complete?key=twice&id=${twice.id}&parts=${twice.parts}`)));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 500]);
    expect(answers.find((a) => a.status === 500)!.body).toEqual({
      error: "completeMultipartUpload: The specified multipart upload does not exist. (10024)",
    });
    const whole = Buffer.concat(sizes.map((s, i) => partBytes(i + 1, s)));
    expect((await call("/read?key=twice")).body).toEqual({ size: whole.length, sha256: createHash("sha256").update(whole).digest("hex") });

    // An abort while complete joins the parts: one of them wins, in R2's words, never half an object.
    const raced = await upload("raced");
    const [done, aborted] = await Promise.all([
      call(`/complete?key=raced&id=${raced.id}&parts=${raced.parts}`),
      call(`/abort?key=raced&id=${raced.id}`),
    ]);
    if (done.status === 200) {
      expect((await call("/read?key=raced")).body).toEqual({
        size: whole.length,
        sha256: createHash("sha256").update(whole).digest("hex"),
      });
      expect(aborted.status === 200 || (aborted.body as { error?: string }).error?.endsWith("(10024)")).toBe(true);
    } else {
      expect(done.body).toEqual({ error: "completeMultipartUpload: The specified multipart upload does not exist. (10024)" });
      expect(aborted.status).toBe(200);
      expect((await call("/read?key=raced")).status).toBe(500);
    }
    // Nothing is left behind: no part file, no second copy; only the objects made.
    expect(files() - before).toBe(done.status === 200 ? 2 : 1);
  });

  it("part numbers 10001 and NaN, a key of 1025 bytes, and one part sent twice at once: workerd's and R2's words, one part file kept", async () => {
    const id = await create("odd");
    expect((await part("odd", id, 10001, 10)).body.error).toBe(
      "Part number must be between 1 and 10000 (inclusive). Actual value was: 10001",
    );
    expect((await call(`/part?key=odd&id=${id}&n=NaN&size=10`)).body).toEqual({
      error: "Part number must be between 1 and 10000 (inclusive). Actual value was: 0",
    });
    const long = "k".repeat(1025);
    expect((await call(`/create?key=${long}`)).body).toEqual({
      error: "createMultipartUpload: The specified object name is not valid. (10020)",
    });
    const files = () => readdirSync(join(t.dataDir, "r2"), { recursive: true, withFileTypes: true }).filter((f) => f.isFile()).length;
    const before = files();
    const [a, b] = await Promise.all([part("odd", id, 1, 3 * MIB), part("odd", id, 1, 2 * MIB)]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(files() - before).toBe(1);
    // Whichever landed last is the part complete takes; the other's etag is not found.
    const kept = [a.body, b.body];
    const answers = await Promise.all(kept.map((p) => call(`/complete?key=odd&id=${id}&parts=${encodeURIComponent(JSON.stringify([p]))}`)));
    expect(answers.filter((x) => x.status === 200)).toHaveLength(1);
  });
});

describe("R2 multipart uploads across an edge restart", () => {
  it("an open upload survives and completes; one past R2's 7 days is aborted with its parts; a cut-off write's file is removed", async () => {
    const dataDir = await makeTempDir("mpu-restart");
    let t: TestEdge | undefined;
    try {
      t = await startTestEdge({ dataDir });
      const cf = createCloudflareClient({ baseUrl: t.edge.apiUrl, apiToken: t.edge.token, accountId: t.region.accountId });
      await fetch(`${t.edge.apiUrl}/accounts/${t.region.accountId}/r2/buckets`, {
        method: "POST",
        headers: { authorization: `Bearer ${t.edge.token}`, "content-type": "application/json" },
        body: JSON.stringify({ name: "uploads" }),
      });
      await cf.deploy("mpu", {
        mainModule: "index.js",
        modules: [{ name: "index.js", content: WORKER }],
        compatibilityDate: "2025-01-01",
        bindings: [{ type: "r2_bucket", name: "BUCKET", bucket_name: "uploads" }],
      });
      const call = async (path: string) => {
        const r = await httpGet(t!.region.port, "mpu.localhost", { path, timeoutMs: 60_000 });
        return { status: r.status, body: JSON.parse(r.body) as Record<string, unknown> };
      };
      const create = async (key: string) => (await call(`/create?key=${key}`)).body.uploadId as string;
      const fresh = await create("fresh");
      const stale = await create("stale");
      const p1 = (await call(`/part?key=fresh&id=${fresh}&n=1&size=${5 * MIB}`)).body;
      await call(`/part?key=stale&id=${stale}&n=1&size=${5 * MIB}`);
      const bucketDir = readdirSync(join(dataDir, "r2"))[0]!;
      writeFileSync(join(dataDir, "r2", bucketDir, "cut-off-write"), "half a part");
      const filesOf = () => readdirSync(join(dataDir, "r2", bucketDir)).sort();
      expect(filesOf()).toHaveLength(3);
      await t.edge.close();

      const db = new DatabaseSync(join(dataDir, "edge.sqlite"));
      db.prepare("UPDATE r2_uploads SET created_ms = created_ms - ? WHERE key = 'stale'").run(8 * 24 * 3600 * 1000);
      db.close();
      t = await startTestEdge({ dataDir });
      expect(filesOf()).toHaveLength(1);
      expect((await call(`/part?key=stale&id=${stale}&n=2&size=10`)).body.error).toBe(
        "uploadPart: The specified multipart upload does not exist. (10024)",
      );
      const p2 = (await call(`/part?key=fresh&id=${fresh}&n=2&size=10`)).body;
      const done = await call(`/complete?key=fresh&id=${fresh}&parts=${encodeURIComponent(JSON.stringify([p1, p2]))}`);
      expect(done.body).toMatchObject({ key: "fresh", size: 5 * MIB + 10 });
      expect(filesOf()).toHaveLength(1);
    } finally {
      await t?.edge.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
