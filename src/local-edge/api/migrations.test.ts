import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openEdgeDb, type EdgeDb } from "../state/db.ts";
import { createDoStore, type DoStore } from "../state/durable-objects.ts";
import { applyMigrations, parseMigrations } from "./migrations.ts";
import { CfApiError } from "./envelope.ts";

const ACCT = "a".repeat(32);
let dir: string;
let db: EdgeDb;
let dos: DoStore;
const apply = (script: string, m: unknown) => applyMigrations({ dos, now: new Date().toISOString() }, ACCT, script, parseMigrations(m));
const refusal = (f: () => void) => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(CfApiError);
    return e as CfApiError;
  }
  throw new Error("expected a refusal");
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "cbo-migrations-"));
  db = openEdgeDb(dir);
  dos = createDoStore(db);
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("Durable Object migrations", () => {
  it("creates namespaces and records the tag wrangler reads back", () => {
    apply("app", { new_tag: "v1", steps: [{ new_sqlite_classes: ["Counter"] }, { new_classes: ["Legacy"] }] });
    expect(dos.migrationTag(ACCT, "app")).toBe("v1");
    expect(dos.ofScript(ACCT, "app").map((n) => [n.class, n.use_sqlite])).toEqual([
      ["Counter", true],
      ["Legacy", false],
    ]);
  });
  it("refuses an old_tag that is not the current tag (10079, Cloudflare's wording)", () => {
    apply("app", { new_tag: "v1", steps: [{ new_sqlite_classes: ["Counter"] }] });
    const e = refusal(() => apply("app", { old_tag: "v0", new_tag: "v2", steps: [] }));
    expect(e.code).toBe(10079);
    expect(e.message).toBe("Migration tag precondition failed; current tag is v1");
    expect(refusal(() => apply("app", { new_tag: "v2", steps: [] })).code).toBe(10079);
  });
  it("keeps a namespace's id through a rename and a transfer, and drops it on delete", () => {
    apply("app", { new_tag: "v1", steps: [{ new_sqlite_classes: ["Counter"] }] });
    const id = dos.byClass(ACCT, "app", "Counter")!.id;
    apply("app", { old_tag: "v1", new_tag: "v2", steps: [{ renamed_classes: [{ from: "Counter", to: "Tally" }] }] });
    expect(dos.byClass(ACCT, "app", "Tally")?.id).toBe(id);
    apply("other", { new_tag: "t1", steps: [{ transferred_classes: [{ from: "Tally", from_script: "app", to: "Moved" }] }] });
    expect(dos.byClass(ACCT, "other", "Moved")?.id).toBe(id);
    expect(dos.ofScript(ACCT, "app")).toEqual([]);
    apply("other", { old_tag: "t1", new_tag: "t2", steps: [{ deleted_classes: ["Moved"] }] });
    expect(dos.get(ACCT, id)).toBeUndefined();
  });
  it("refuses steps on classes that do not exist or already exist", () => {
    apply("app", { new_tag: "v1", steps: [{ new_sqlite_classes: ["A"] }] });
    expect(refusal(() => apply("app", { old_tag: "v1", new_tag: "v2", steps: [{ new_classes: ["A"] }] })).message).toContain("already");
    expect(refusal(() => apply("app", { old_tag: "v1", new_tag: "v2", steps: [{ deleted_classes: ["B"] }] })).message).toContain(
      "non-existent class 'B'",
    );
    expect(refusal(() => apply("app", { old_tag: "v1", new_tag: "v2", steps: [{ renamed_classes: [{ from: "B", to: "C" }] }] })).code).toBe(
      10021,
    );
    expect(refusal(() => parseMigrations({ steps: [{ new_klasses: ["A"] }] })).message).toContain("metadata.migrations");
  });
  it("reads the older single-step form", () => {
    expect(parseMigrations({ tag: "v1", new_classes: ["A"] })).toEqual({ new_tag: "v1", steps: [{ new_classes: ["A"] }] });
  });
});
