// Exports: a file (or URL) outside the VPS's control, and offline verification from that file and
// the public key alone, including a sweep that flips every byte of a small export.
import type { webcrypto } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createAuditLog, createEd25519Signer, parseAuditExport, readAuditExport, verifyAuditLog } from "../src/audit/index.ts";
import { createStore, type Store } from "../src/store/index.ts";
import { silentLogger } from "../src/telemetry/index.ts";

const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const f of cleanup.splice(0)) f();
});

async function setup(n: number, checkpointsAt: number[]) {
  const dir = mkdtempSync(join(tmpdir(), "cbo-audit-export-"));
  const store: Store = createStore(join(dir, "orchestrator.sqlite"));
  cleanup.push(() => store.db.isOpen && store.close());
  const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as unknown as webcrypto.CryptoKeyPair;
  const signer = await createEd25519Signer(pair);
  let t = Date.parse("2026-06-01T00:00:00.000Z");
  const audit = createAuditLog({ db: store.db, signer, now: () => (t += 1000), log: silentLogger });
  for (let i = 1; i <= n; i++) {
    audit.append({
      actor: "token:ci",
      action: "release.create",
      target: `worker:w${i}`,
      tenant: i % 2 ? null : "acme",
      outcome: "ok",
      details: { i, note: "déploiement" },
    });
    if (checkpointsAt.includes(i)) await audit.checkpoint();
  }
  return { dir, store, signer, audit };
}

async function listen(handler: (req: IncomingMessage, body: string) => number) {
  const server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      res.statusCode = handler(req, body);
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  cleanup.push(() => server.close());
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe("audit export", () => {
  it("verifies offline from the exported file and the public key alone", async () => {
    const { dir, store, signer, audit } = await setup(25, [10, 20, 25]);
    const file = join(dir, "audit-export.jsonl");
    const res = await audit.exportTo(file, { include: "all" });
    expect(res).toMatchObject({ dest: file, lines: 1 + 25 + 3 });
    const publicKey = new Uint8Array(signer.publicKey);
    store.close();
    rmSync(join(dir, "orchestrator.sqlite"));

    const text = readFileSync(file, "utf8");
    expect(text.split("\n")[0]).toMatch(
      /^\{"checkpoints":3,"entries":25,"exported_at":"[^"]+","format":"cbo.audit.export","kind":"header","v":1\}$/,
    );
    const exported = readAuditExport(file);
    expect(exported.entries).toHaveLength(25);
    expect(await verifyAuditLog({ ...exported, publicKey })).toMatchObject({ ok: true, checked: 25, checkpoints: 3 });

    // The same file with the lines of entries 4 and 5 swapped, or entry 9 left out.
    const lines = text.split("\n");
    const swapped = [...lines];
    [swapped[4], swapped[5]] = [lines[5]!, lines[4]!];
    expect((await verifyAuditLog({ ...parseAuditExport(swapped.join("\n")), publicKey })).firstBad).toMatchObject({
      seq: 4,
      reason: "missing entry",
    });
    const without9 = lines.filter((_, i) => i !== 9).join("\n");
    expect((await verifyAuditLog({ ...parseAuditExport(without9), publicKey })).firstBad).toMatchObject({
      seq: 9,
      reason: "missing entry",
    });
    // Cut after entry 12, checkpoints kept: the file is shorter than what was signed.
    const cut = [...lines.slice(0, 13), ...lines.slice(26)].join("\n");
    expect((await verifyAuditLog({ ...parseAuditExport(cut), publicKey })).firstBad).toMatchObject({
      seq: 13,
      reason: "truncated after checkpoint",
      checkpoint: 20,
      range: [13, 25],
    });
  });

  it("exports only checkpoints by default, and incrementally with sinceTreeSize", async () => {
    const { audit } = await setup(12, [4, 8, 12]);
    const all = parseAuditExport(audit.exportCheckpoints());
    expect(all.header).toMatchObject({ entries: 0, checkpoints: 3 });
    expect(all.entries).toEqual([]);
    expect(all.checkpoints).toEqual(audit.checkpoints());
    expect(
      parseAuditExport(audit.exportCheckpoints({ sinceTreeSize: 4 })).checkpoints.map((c) => ("tree_size" in c ? c.tree_size : -1)),
    ).toEqual([8, 12]);
  });

  it("sends the export to a URL with PUT or POST; a refusal is ERR_IO naming only the origin", async () => {
    const { audit } = await setup(5, [5]);
    const got: Array<{ method?: string; type?: string; body: string }> = [];
    const base = await listen(
      (req, body) => (got.push({ method: req.method, type: req.headers["content-type"], body }), req.url?.startsWith("/fail") ? 500 : 201),
    );
    const put = await audit.exportTo(`${base}/audit/checkpoints.jsonl`);
    const post = await audit.exportTo(new URL(`${base}/audit/append`), { method: "POST", include: "all" });
    expect(got.map((g) => [g.method, g.type])).toEqual([
      ["PUT", "application/x-ndjson"],
      ["POST", "application/x-ndjson"],
    ]);
    expect(parseAuditExport(got[0]!.body).checkpoints).toEqual(audit.checkpoints());
    expect(parseAuditExport(got[1]!.body).entries).toHaveLength(5);
    expect(put.dest).toBe(base);
    expect(post.sha256).toMatch(/^[0-9a-f]{64}$/);

    const err = await audit.exportTo(`${base}/fail?X-Amz-Signature=presigned-credential`).catch((e) => e);
    expect(err).toMatchObject({ code: "ERR_IO", details: { status: 500 } });
    expect(err.message).toContain(base);
    expect(err.message).not.toContain("presigned-credential");
  });

  it("removes the working copy an export killed mid-way left (its process gone), never a live one's", async () => {
    const { dir, audit } = await setup(3, []);
    const file = join(dir, "audit.jsonl");
    // A pid that was real and is gone (as after kill -9), and one alive: this test's parent.
    const gone = Number(spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout);
    writeFileSync(`${file}.tmp-${gone}`, "half an export\n");
    writeFileSync(`${file}.tmp-${process.ppid}`, "another writer's, still running\n");
    await audit.exportTo(file);
    expect(
      readdirSync(dir)
        .filter((n) => n.startsWith("audit.jsonl"))
        .sort(),
    ).toEqual(["audit.jsonl", `audit.jsonl.tmp-${process.ppid}`]);
  });

  it("refuses to leave a half-written file behind", async () => {
    const { dir, audit } = await setup(3, []);
    const err = await audit.exportTo(join(dir, "no-such-dir", "x.jsonl")).catch((e) => e);
    expect(err).toMatchObject({ code: "ERR_IO" });
    const file = join(dir, "keep.jsonl");
    writeFileSync(file, "previous export\n");
    await audit.exportTo(file);
    expect(readFileSync(file, "utf8")).toMatch(/^\{"checkpoints":0,"entries":0,/);
  });

  it("detects a flip of any single byte of any entry or checkpoint, naming the right entry", async () => {
    const { audit, signer } = await setup(12, [6, 12]);
    const text = audit.exportCheckpoints({ include: "all" });
    const bytes = Buffer.from(text, "utf8");
    const lineOf: number[] = [];
    let line = 0;
    for (const b of bytes) lineOf.push(line), b === 0x0a && line++;
    expect(line).toBe(1 + 12 + 2);
    let flips = 0;
    for (let i = 0; i < bytes.length; i++) {
      const l = lineOf[i]!;
      if (l === 0) continue; // the header is informational (not hashed, not signed)
      const copy = Buffer.from(bytes);
      copy[i] = copy[i]! ^ 0x01;
      const res = await verifyAuditLog({ ...parseAuditExport(copy.toString("utf8")), publicKey: signer.publicKey });
      const where = `byte ${i} of line ${l}: ${JSON.stringify(bytes.subarray(Math.max(i - 8, 0), i + 8).toString())}`;
      expect(res.ok, where).toBe(false);
      if (l <= 12) expect(res.firstBad?.seq, where).toBe(l);
      else expect(res.firstBad?.reason, where).toBe("bad checkpoint signature");
      flips++;
    }
    expect(flips).toBeGreaterThan(3000);
  }, 120_000);
});
