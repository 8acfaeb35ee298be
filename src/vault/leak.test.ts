// Planted secrets: five unique values go through every vault operation, failures included; then the
// SQLite files, every thrown error (message, hint, details, cause, stack), every log line, event
// and returned metadata, and everything written to stdout/stderr are searched for them, in clear,
// hex and base64. The master key and the passphrase are searched for the same way.
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { openDb } from "../store/db.ts";
import { masterKeyFromEnv, MasterKey } from "./master-key.ts";
import { masterKeyFromFile } from "./key-file.ts";
import { masterKeyFromPassphrase } from "./passphrase.ts";
import { createVault } from "./secret-store.ts";
import { lineLogger } from "../telemetry/index.ts";

const PLANTED = Array.from({ length: 5 }, (_, i) => `planted-${i}-${randomBytes(12).toString("hex")}`);
const MASTER = randomBytes(32);
const NEXT_MASTER = randomBytes(32);
const PASSPHRASE = `planted passphrase ${randomBytes(8).toString("hex")}`;

/** Each secret in clear, hex and base64, labelled so that a failure never prints the secret. */
const forms = (label: string, s: string | Buffer) => {
  const b = Buffer.isBuffer(s) ? s : Buffer.from(s, "utf8");
  const all = {
    hex: b.toString("hex"),
    base64: b.toString("base64"),
    base64url: b.toString("base64url"),
    ...(Buffer.isBuffer(s) ? {} : { clear: s }),
  };
  return Object.entries(all).map(([form, text]) => ({ what: `${label} (${form})`, bytes: Buffer.from(text, "utf8") }));
};
const NEEDLES = [
  ...PLANTED.flatMap((p, i) => forms(`planted value ${i}`, p)),
  ...forms("master key", MASTER),
  ...forms("next master key", NEXT_MASTER),
  ...forms("passphrase", PASSPHRASE),
];

describe("the vault leaks no secret value", () => {
  const output: string[] = [];
  beforeEach(() => {
    for (const stream of [process.stdout, process.stderr]) {
      const write = stream.write.bind(stream);
      vi.spyOn(stream, "write").mockImplementation(((chunk: unknown, ...rest: unknown[]) => {
        output.push(String(chunk));
        return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
      }) as typeof stream.write);
    }
    for (const m of ["log", "info", "warn", "error", "debug"] as const) {
      vi.spyOn(console, m).mockImplementation((...args: unknown[]) => void output.push(args.map((a) => inspect(a)).join(" ")));
    }
  });
  afterEach(() => vi.restoreAllMocks());

  it("in the database files, errors, logs, events or metadata", () => {
    const dir = mkdtempSync(join(tmpdir(), "cbo-vault-leak-"));
    const file = join(dir, "o.sqlite");
    const db = openDb(file);
    const logs: string[] = [];
    const events: unknown[] = [];
    const errors: unknown[] = [];
    const returned: unknown[] = [];
    const attempt = (fn: () => unknown) => {
      try {
        returned.push(fn());
      } catch (e) {
        errors.push(e);
      }
    };
    const log = lineLogger((line: string) => logs.push(line));
    const master = masterKeyFromEnv({ CBO_MASTER_KEY: MASTER.toString("base64") })!;
    const vault = createVault({ db, masterKey: master, keepVersions: 3, log, onEvent: (e) => events.push(e) });
    const [p0, p1, p2, p3, p4] = PLANTED as [string, string, string, string, string];

    // Writes, reads, metadata.
    vault.put("P0", p0, { by: "alice" });
    vault.put("P1", Buffer.from(p1), { mode: "binding", jurisdictions: ["eu"] });
    vault.put("P2", p2, { tenant: "acme" });
    for (let i = 0; i < 4; i++) vault.put("P3", `${p3}-${i}`); // pruned beyond keepVersions
    vault.put("P4", p4);
    returned.push(
      vault.getText("P0"),
      vault.get("P1"),
      vault.list(),
      vault.list({ tenant: "acme" }),
      vault.versions("P3"),
      vault.info("P1"),
    );
    returned.push(vault.keyedHash(p0), vault.setPolicy("P0", { mode: "binding" }));
    returned.push(vault.rollback("P3", 2, { cas: 4 }));
    // Failures that carry a value in their input.
    attempt(() => vault.put("bad name!", p0));
    attempt(() => vault.put("P0", p0, { cas: 9 }));
    attempt(() => vault.put("P0", p0, { cas: 0 }));
    attempt(() => vault.put("dotted.name", p1, { mode: "binding" }));
    attempt(() => vault.put("P0", p0, { tenant: "BAD" }));
    attempt(() => vault.put("P0", p0, { typo: 1 } as never));
    attempt(() => vault.put("P0", p0 + "x".repeat(70_000)));
    attempt(() => vault.get("P0", { version: 99 }));
    attempt(() => vault.get("P3", { version: 1 }));
    attempt(() => vault.rollback("P3", 1, { cas: 5 }));
    // Lifecycle.
    returned.push(vault.softDelete("P4", { cas: 1 }));
    attempt(() => vault.get("P4"));
    attempt(() => vault.put("P4", p4));
    returned.push(vault.undelete("P4"), vault.destroy("P4", { versions: [1] }));
    attempt(() => vault.get("P4"));
    // Tampering: a ciphertext moved to another secret.
    db.prepare(`UPDATE secret_versions SET (ciphertext, iv, tag, wrapped_key, key_id) =
      (SELECT ciphertext, iv, tag, wrapped_key, key_id FROM secret_versions WHERE name = 'P0') WHERE name = 'P1'`).run();
    attempt(() => vault.get("P1"));
    attempt(() => vault.rotateMasterKey(new MasterKey(NEXT_MASTER, "bytes"))); // refuses while a row is bad
    returned.push(vault.destroy("P1", { versions: [1] }));
    // Keys: a failed and a successful rotation, wrong keys, a key file with bad permissions.
    class Crashing extends MasterKey {
      override wrap(): Buffer {
        throw new Error("simulated crash");
      }
    }
    attempt(() => vault.rotateMasterKey(new Crashing(randomBytes(32), "bytes")));
    returned.push(vault.rotateMasterKey(new MasterKey(NEXT_MASTER, "bytes")));
    returned.push(vault.getText("P0"));
    attempt(() => createVault({ db, masterKey: master, log }));
    attempt(() => masterKeyFromEnv({ CBO_MASTER_KEY: MASTER.subarray(0, 31).toString("base64") }));
    attempt(() => masterKeyFromEnv({ CBO_MASTER_KEY: p0 }));
    writeFileSync(join(dir, "k"), MASTER.toString("hex"), { mode: 0o644 });
    attempt(() => masterKeyFromFile(join(dir, "k")));
    writeFileSync(join(dir, "p"), p0, { mode: 0o600 });
    attempt(() => masterKeyFromFile(join(dir, "p")));
    const pdb = openDb(join(dir, "pass.sqlite"));
    const pvault = createVault({ db: pdb, masterKey: masterKeyFromPassphrase(pdb, PASSPHRASE), log });
    pvault.put("P0", p0);
    attempt(() => createVault({ db: pdb, masterKey: masterKeyFromPassphrase(pdb, PASSPHRASE + "!"), log }));
    returned.push(master, inspect(master), String(master));

    expect(errors.length).toBeGreaterThanOrEqual(20);
    expect(logs.length).toBeGreaterThan(0);
    const text = (name: string, t: string) => ({ name, bytes: Buffer.from(t, "utf8") });
    const files = [file, `${file}-wal`, `${file}-shm`, join(dir, "pass.sqlite"), join(dir, "pass.sqlite-wal")].filter(existsSync);
    const haystacks = [
      ...errors.map((e, i) =>
        text(
          `error ${i} (${(e as { code?: string }).code ?? (e as Error).name})`,
          [inspect(e, { depth: 10 }), JSON.stringify(e), String((e as Error).stack)].join("\n"),
        ),
      ),
      text("log lines", logs.join("\n")),
      text("stdout/stderr/console", output.join("\n")),
      text("events", JSON.stringify(events)),
      text("returned metadata", JSON.stringify(returned.filter((r) => !(r && typeof r === "object" && "value" in r)))),
      ...files.map((f) => ({ name: f, bytes: readFileSync(f) })),
    ];
    const leaks = NEEDLES.flatMap((n) => haystacks.filter((h) => h.bytes.includes(n.bytes)).map((h) => `${n.what} in ${h.name}`));
    expect(leaks).toEqual([]);
    // The scan can see: the values really went through the vault and came back out.
    expect(
      returned.some((r) => JSON.stringify(r).includes(Buffer.from(p1).toString("hex")) || (r as { value?: unknown })?.value === p0),
    ).toBe(true);
    db.close();
    pdb.close();
  });
});
