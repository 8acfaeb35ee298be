// `cbo audit verify`, the real binary as a child process, on a real SQLite file written by the real
// audit log (src/audit) with a generated Ed25519 key, checkpoints appended to
// <data>/audit-checkpoints.jsonl as the daemon does. It works offline (no daemon, and a CBO_URL
// that records requests gets none), exits 0 on an intact log, and after tampering the way someone
// with the file would (dropping the append-only triggers from another connection) exits 1 naming
// the first bad entry. A sweep flips one byte in every entry and checks the entry named.
import { execFileSync } from "node:child_process";
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canonicalJson, createAuditLog, entryHash, generateEd25519Signer, type AuditEntry, type AuditSigner } from "../src/audit/index.ts";
import { auditCommand } from "../src/cli/offline/audit-command.ts";
import { createStore } from "../src/store/index.ts";
import { runInProcess } from "./support/cli-in-process.ts";
import { runCbo } from "./support/run-cbo.ts";
import { silentLogger } from "../src/telemetry/index.ts";

const ENTRIES = 25;
const b64url = (b: Uint8Array) => Buffer.from(b).toString("base64url");

let root: string;
let signer: AuditSigner;
let pristine: string;

/** A data directory like the daemon's: orchestrator.sqlite, audit-checkpoints.jsonl, the public key document. */
async function buildLog(dir: string, s: AuditSigner): Promise<void> {
  const store = createStore(join(dir, "orchestrator.sqlite"));
  const checkpoints = join(dir, "audit-checkpoints.jsonl");
  writeFileSync(checkpoints, "");
  const audit = createAuditLog({
    db: store.db,
    signer: s,
    log: silentLogger,
    onCheckpoint: (cp) => appendFileSync(checkpoints, canonicalJson({ ...cp, kind: "checkpoint" }) + "\n"),
  });
  for (let i = 1; i <= ENTRIES; i++) {
    audit.append({
      actor: i % 2 ? "token:admin" : "token:ci",
      action: i % 3 ? "secret.put" : "secret.read",
      target: `secret:S${i}`,
      outcome: "ok",
      details: { version: i },
    });
    if (i === 10 || i === 20) await audit.checkpoint();
  }
  store.close();
  writeFileSync(
    join(dir, "orchestrator-key.json"),
    JSON.stringify({ keyId: s.keyId, publicKey: b64url(s.publicKey), jwk: { kty: "OKP", crv: "Ed25519", x: b64url(s.publicKey) } }),
  );
}

/** A fresh copy of the pristine data directory. */
function cloneTo(name: string): string {
  const dir = join(root, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  for (const f of ["orchestrator.sqlite", "audit-checkpoints.jsonl", "orchestrator-key.json"])
    copyFileSync(join(pristine, f), join(dir, f));
  return dir;
}

/** The attacker's connection: no triggers, no key. */
function tamper(dir: string, sql: (db: DatabaseSync) => void): void {
  const db = new DatabaseSync(join(dir, "orchestrator.sqlite"));
  db.exec(
    "DROP TRIGGER audit_entries_no_update; DROP TRIGGER audit_entries_no_delete; DROP TRIGGER audit_checkpoints_no_update; DROP TRIGGER audit_checkpoints_no_delete;",
  );
  sql(db);
  db.close();
}

type Row = Omit<AuditEntry, "details"> & { details: string };
/** Rewrites entries from `from` on so that every hash and link recomputes: a chain-consistent forgery. */
function rechain(db: DatabaseSync, from: number): void {
  const all = db.prepare("SELECT * FROM audit_entries ORDER BY seq").all() as Row[];
  let prev = all[from - 2]!.hash;
  for (const r of all.slice(from - 1)) {
    const { hash: _old, ...rest } = { ...r, details: JSON.parse(r.details) as Record<string, never>, prev_hash: prev };
    const hash = entryHash(rest);
    db.prepare("UPDATE audit_entries SET prev_hash = ?, hash = ? WHERE seq = ?").run(prev, hash, r.seq);
    prev = hash;
  }
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "cbo-cli-audit-verify-"));
  signer = await generateEd25519Signer();
  pristine = join(root, "pristine");
  mkdirSync(pristine);
  await buildLog(pristine, signer);
});
afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

const verify = (args: string[], env: Record<string, string> = {}) => runCbo(["audit", "verify", ...args], { cwd: root, env });

describe("cbo audit verify (the binary, offline)", () => {
  it("an intact log: exit 0, ok, counts, what the checkpoints cover; and no request to any daemon", async () => {
    const calls: string[] = [];
    const trap = http.createServer((req, res) => (calls.push(req.url ?? ""), res.end("{}")));
    await new Promise<void>((r) => trap.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(trap.address() as AddressInfo).port}`;
    const dir = cloneTo("intact");
    writeFileSync(join(dir, "daemon.json"), JSON.stringify({ url, pid: process.pid }));
    try {
      const r = await verify(["--data", dir], { CBO_URL: url, CBO_TOKEN: "cbo_never_sent" });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const lines = r.stdout.trimEnd().split("\n");
      expect(lines[0]).toMatch(
        new RegExp(`^ok: the audit log in ${join(dir, "orchestrator.sqlite")} verifies: 25 entries, head #25 [0-9a-f]{16}$`),
      );
      expect(lines[1]).toBe(
        `checkpoints: 4 signed and matching (2 stored in the database, 2 from ${join(dir, "audit-checkpoints.jsonl")}); public key: ${signer.keyId} from ${join(dir, "orchestrator-key.json")}`,
      );
      expect(lines[2]).toBe(
        "the public key was read from the data directory: compare its id with one kept elsewhere, or pass --public-key",
      );
      expect(lines[3]).toBe(
        "entries 21..25 came after the newest checkpoint: the chain protects them, but a cut tail there would leave no trace",
      );
      expect(calls).toEqual([]);
    } finally {
      await new Promise<void>((r) => trap.close(() => r()));
    }
  });

  it("--json, --db, --checkpoint and --public-key name everything explicitly", async () => {
    const dir = cloneTo("explicit");
    const r = await verify([
      "--db",
      join(dir, "orchestrator.sqlite"),
      "--checkpoint",
      join(dir, "audit-checkpoints.jsonl"),
      `--public-key=${b64url(signer.publicKey)}`,
      "--data",
      join(root, "nowhere"),
      "--json",
    ]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({
      ok: true,
      checked: 25,
      checkpoints: 4,
      storedCheckpoints: 2,
      coveredBySignature: 20,
      head: { seq: 25 },
      keys: [{ source: "--public-key" }],
    });
    expect(report.checkpointFiles).toEqual([{ file: join(dir, "audit-checkpoints.jsonl"), checkpoints: 2, unreadableLines: [] }]);
  });

  it("--key-url: the key document fetched from where the auditor keeps it", async () => {
    const doc = JSON.stringify({
      keyId: signer.keyId,
      publicKey: b64url(signer.publicKey),
      jwk: { kty: "OKP", crv: "Ed25519", x: b64url(signer.publicKey) },
    });
    const server = http.createServer((_req, res) => res.end(doc));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const dir = cloneTo("keyurl");
    rmSync(join(dir, "orchestrator-key.json"));
    try {
      const r = await verify(["--data", dir, "--key-url", `http://127.0.0.1:${(server.address() as AddressInfo).port}/key.json`, "--json"]);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({
        ok: true,
        keyBesideLog: false,
        keys: [{ source: expect.stringMatching(/^--key-url http:\/\/127\.0\.0\.1:\d+$/), keyId: signer.keyId }],
      });
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it("an edited entry: exit 1 naming it", async () => {
    const dir = cloneTo("edited");
    tamper(dir, (db) => db.prepare("UPDATE audit_entries SET action = 'secret.list' WHERE seq = 7").run());
    const r = await verify(["--data", dir]);
    expect(r.code).toBe(1);
    expect(r.stdout.split("\n")[0]).toBe("FAILED: entry #7: hash mismatch: entry 7 does not match its hash");
    expect(r.stdout).toContain("verified before it: 6 entries and 0 checkpoints");
    const json = JSON.parse((await verify(["--data", dir, "--json"])).stdout);
    expect(json).toMatchObject({ ok: false, checked: 6, firstBad: { seq: 7, reason: "hash mismatch" } });
  });

  it("a rewrite that recomputes the chain and drops the stored checkpoints is caught only by the checkpoint file", async () => {
    const dir = cloneTo("rechained");
    tamper(dir, (db) => {
      db.prepare("UPDATE audit_entries SET outcome = 'denied' WHERE seq = 15").run();
      rechain(db, 15);
      db.prepare("DELETE FROM audit_checkpoints").run();
    });
    const caught = await verify(["--data", dir]);
    expect(caught.code).toBe(1);
    expect(caught.stdout.split("\n").slice(0, 2)).toEqual([
      "FAILED: entry #11: checkpoint root mismatch: entries 11..20 do not match the signed checkpoint at tree size 20: one of them was rewritten and the chain recomputed",
      "the fault lies within entries 11..20 (checkpoint at tree size 20)",
    ]);
    // Without the file (another data dir, key passed explicitly) the forgery passes the chain: that
    // is what the warning says, and why the file belongs off the VPS.
    const blind = await verify([
      "--db",
      join(dir, "orchestrator.sqlite"),
      "--data",
      join(root, "nowhere"),
      `--public-key=${b64url(signer.publicKey)}`,
    ]);
    expect(blind.code).toBe(0);
    expect(blind.stdout).toContain("no checkpoint file: only checkpoints stored beside the log were used");
    expect(blind.stdout).toContain("no checkpoint covers any entry: the hash chain alone cannot show a recomputed rewrite or a cut tail");
  });

  it("a cut tail under a signed checkpoint: truncated, naming the first missing entry", async () => {
    const dir = cloneTo("truncated");
    tamper(dir, (db) => db.prepare("DELETE FROM audit_entries WHERE seq >= 18").run());
    const r = await verify(["--data", dir, "--json"]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).firstBad).toMatchObject({ seq: 18, reason: "truncated after checkpoint", checkpoint: 20 });
  });

  it("a checkpoint file with a flipped byte, or the wrong key: bad checkpoint signature, exit 1", async () => {
    const dir = cloneTo("badfile");
    const file = join(dir, "audit-checkpoints.jsonl");
    const text = readFileSync(file, "utf8");
    const at = text.indexOf('"merkle_root":"') + 20;
    writeFileSync(file, text.slice(0, at) + (text[at] === "a" ? "b" : "a") + text.slice(at + 1));
    const flipped = await verify(["--data", dir, "--json"]);
    expect(flipped.code).toBe(1);
    expect(JSON.parse(flipped.stdout).firstBad).toMatchObject({ seq: 10, reason: "bad checkpoint signature", checkpoint: 10 });

    const other = await generateEd25519Signer();
    const wrongKey = await verify(["--data", cloneTo("wrongkey"), `--public-key=${b64url(other.publicKey)}`, "--json"]);
    expect(wrongKey.code).toBe(1);
    expect(JSON.parse(wrongKey.stdout).firstBad).toMatchObject({ reason: "bad checkpoint signature", checkpoint: 10 });
  });

  it("a checkpoint file whose last line was cut off (a kill -9 as it was appended): a warning naming it, the rest verified, exit 0", async () => {
    const dir = cloneTo("cutline");
    const file = join(dir, "audit-checkpoints.jsonl");
    // Two whole checkpoint lines, and a third cut off 40 bytes before its end (the newline with it).
    const last = readFileSync(file, "utf8").split("\n")[1]!;
    appendFileSync(file, last.replace('"tree_size":20', '"tree_size":25').slice(0, -40));
    const r = await verify(["--data", dir]);
    expect([r.code, r.stderr]).toEqual([0, ""]);
    expect(r.stdout).toMatch(/^ok: the audit log in .* verifies: 25 entries/);
    expect(r.stdout).toContain(
      `${file}: line 3 is cut off (no newline at its end: the daemon was stopped while writing it); left out, and the daemon drops it at its next start`,
    );
    expect(r.stdout).not.toContain("cannot be read");
    const json = await verify(["--data", dir, "--json"]);
    expect(JSON.parse(json.stdout).checkpointFiles).toEqual([{ file, checkpoints: 2, unreadableLines: [], cutOffLine: 3 }]);
    // The same line with its newline is no interrupted write: evidence, exit 1.
    appendFileSync(file, "\n");
    const ended = await verify(["--data", dir, "--json"]);
    expect(ended.code).toBe(1);
    expect(JSON.parse(ended.stdout).checkpointFiles).toEqual([{ file, checkpoints: 3, unreadableLines: [3] }]);
  });

  it("refusals: no database (ERR_NOT_FOUND), no key for the checkpoints (ERR_USAGE), both exit 1 without a stack", async () => {
    const none = await verify(["--data", join(root, "nowhere")]);
    expect([none.code, none.stderr.split("\n")[0]]).toEqual([
      1,
      `error ERR_NOT_FOUND: There is no database at ${join(root, "nowhere", "orchestrator.sqlite")}.`,
    ]);
    const dir = cloneTo("nokey");
    rmSync(join(dir, "orchestrator-key.json"));
    const noKey = await verify(["--data", dir]);
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toMatch(/^error ERR_USAGE: No public key to check the checkpoint signatures with\.\nhint: pass --public-key/);
    // Cut off (a kill -9 as the daemon rewrote it) or emptied: named, with where a good copy comes from.
    const cut = cloneTo("cutkey");
    const keyFile = join(cut, "orchestrator-key.json");
    const cutOff = `error ERR_VALIDATION: Cannot read ${keyFile} as a public key document.`;
    for (const [text, says] of [
      [readFileSync(keyFile, "utf8").slice(0, 60), cutOff],
      ["", cutOff],
      ["{}", `error ERR_VALIDATION: ${keyFile} is not a public key document ({keyId, publicKey, jwk}).`],
    ]) {
      writeFileSync(keyFile, text!);
      const r = await verify(["--data", cut]);
      expect([r.code, r.stderr.split("\n")[0]]).toEqual([1, says]);
      expect(r.stderr).toContain("hint: the daemon writes <data>/orchestrator-key.json again from its vault at every start");
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    for (const r of [none, noKey]) expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe("cbo audit verify names the right entry for a flipped byte in any entry (in process)", () => {
  it(`every one of the ${ENTRIES} entries, one column at a time`, async () => {
    const columns = ["at", "actor", "action", "target", "details", "prev_hash", "hash"] as const;
    for (let seq = 1; seq <= ENTRIES; seq++) {
      const column = columns[seq % columns.length]!;
      const dir = cloneTo(`sweep-${seq}`);
      tamper(dir, (db) => {
        const value = (db.prepare(`SELECT ${column} AS v FROM audit_entries WHERE seq = ?`).get(seq) as { v: string }).v;
        const i = seq % value.length;
        const flipped = value.slice(0, i) + String.fromCharCode(value.charCodeAt(i) ^ 1) + value.slice(i + 1);
        db.prepare(`UPDATE audit_entries SET ${column} = ? WHERE seq = ?`).run(flipped, seq);
      });
      const r = await runInProcess(auditCommand, ["verify", "--data", dir, "--json"]);
      expect(r.code, `entry ${seq}, ${column}`).toBe(1);
      const bad = JSON.parse(r.out).firstBad;
      expect(bad.seq, `entry ${seq}, ${column}: ${bad.message}`).toBe(seq);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a device, a FIFO or a directory given as --checkpoint or --db: exit 1 naming it (a FIFO hung, /dev/zero ran out of memory)", async () => {
    const dir = cloneTo("not-files");
    const fifo = join(dir, "fifo");
    execFileSync("mkfifo", [fifo]);
    for (const [flag, file, says] of [
      ["--checkpoint", "/dev/zero", "/dev/zero is not a regular file; give the checkpoint file itself."],
      ["--checkpoint", fifo, `${fifo} is not a regular file; give the checkpoint file itself.`],
      ["--checkpoint", dir, `${dir} is a directory; give the checkpoint file itself.`],
      ["--db", fifo, `${fifo} is not a regular file, not a database.`],
      ["--db", dir, `${dir} is a directory, not a database.`],
    ] as const) {
      const r = await verify([...(flag === "--db" ? [] : ["--data", dir]), flag, file], {});
      expect([flag, file, r.code, r.stderr.split("\n")[0]]).toEqual([flag, file, 1, `error ERR_VALIDATION: ${says}`]);
    }
    rmSync(dir, { recursive: true, force: true });
  });
});
