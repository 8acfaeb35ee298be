// openSecurity over a real SQLite store: checkpoints shipped to a file (with catch-up after a crash
// between signing and writing) and to a URL (incremental POSTs to a real local HTTP server).
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseAuditExport } from "../audit/index.ts";
import { createStore } from "../store/index.ts";
import { MasterKey } from "../vault/index.ts";
import { openSecurity } from "./open-security.ts";
import { silentLogger } from "../telemetry/index.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), "cbo-security-"));
  dirs.push(d);
  return d;
};
const entry = (n: number) => ({ actor: "test", action: "config.publish", target: `worker:w${n}`, outcome: "ok" as const });

describe("openSecurity", () => {
  it("appends each checkpoint to the file once, and catches up on checkpoints the file lacks", async () => {
    const dir = tempDir();
    const file = join(dir, "audit-checkpoints.jsonl");
    const store = createStore(join(dir, "orchestrator.sqlite"));
    const masterKey = new MasterKey(randomBytes(32), "bytes");
    const sec = await openSecurity({ db: store.db, masterKey, checkpointExport: file, log: silentLogger });
    sec.audit.append(entry(1));
    await sec.audit.checkpoint();
    await sec.audit.checkpoint(); // nothing new: no new line
    sec.audit.append(entry(2));
    const last = await sec.audit.checkpoint();
    const lines = () => parseAuditExport(readFileSync(file, "utf8")).checkpoints;
    expect(lines()).toEqual(sec.audit.checkpoints());
    expect(lines().at(-1)).toEqual(last);
    expect(lines().length).toBeGreaterThanOrEqual(2);
    await sec.stop();

    // The file lost its last line (a crash after signing, before the write): the next start restores it.
    writeFileSync(file, readFileSync(file, "utf8").split("\n").slice(0, 1).join("\n") + "\n");
    const again = await openSecurity({ db: store.db, masterKey, checkpointExport: file, log: silentLogger });
    expect(lines().map((c) => ("signature" in c ? c.tree_size : -1))).toEqual(sec.audit.checkpoints().map((c) => c.tree_size));
    expect(await again.verify()).toMatchObject({ ok: true });
    await again.stop();
    store.close();
  });

  it("POSTs new checkpoints to a URL as JSON lines, each once", async () => {
    const received: string[] = [];
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        received.push(`${req.method} ${req.headers["content-type"]}\n${body}`);
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/checkpoints?sig=presigned`;
    const store = createStore(":memory:");
    try {
      const sec = await openSecurity({
        db: store.db,
        masterKey: new MasterKey(randomBytes(32), "bytes"),
        checkpointExport: url,
        log: silentLogger,
      });
      await sec.audit.checkpoint();
      sec.audit.append(entry(1));
      await sec.audit.checkpoint();
      const shipped = received.map((r) =>
        parseAuditExport(r.split("\n").slice(1).join("\n")).checkpoints.map((c) => ("signature" in c ? c.tree_size : -1)),
      );
      expect(received.every((r) => r.startsWith("POST application/x-ndjson"))).toBe(true);
      // Each POST carries only what the previous ones did not.
      expect(shipped.flat()).toEqual(sec.audit.checkpoints().map((c) => c.tree_size));
      await sec.stop();
    } finally {
      store.close();
      await new Promise((r) => server.close(r));
    }
  });
});
