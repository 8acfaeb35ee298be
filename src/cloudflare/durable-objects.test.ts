// migrationsToUpload: wrangler's getMigrationsToUpload table (CLOUDFLARE-API-FLEET §4.3).
import { describe, expect, it } from "vitest";
import type { Migration } from "../config/source/model.ts";
import { migrationsToUpload } from "./durable-objects.ts";

const CONFIG: Migration[] = [
  { tag: "v1", new_sqlite_classes: ["Counter"] },
  { tag: "v2", renamed_classes: [{ from: "Counter", to: "Tally" }] },
  { tag: "v3", new_classes: ["Legacy"], deleted_classes: ["Old"] },
];

describe("migrationsToUpload", () => {
  it("no remote tag: every step, the last tag as new_tag, no old_tag", () => {
    expect(migrationsToUpload(CONFIG, null)).toEqual({
      migrations: {
        new_tag: "v3",
        steps: [
          { new_sqlite_classes: ["Counter"] },
          { renamed_classes: [{ from: "Counter", to: "Tally" }] },
          { new_classes: ["Legacy"], deleted_classes: ["Old"] },
        ],
      },
    });
    expect(migrationsToUpload(CONFIG, "")).toEqual(migrationsToUpload(CONFIG, null));
  });

  it("a tag before the last: the steps after it", () => {
    expect(migrationsToUpload(CONFIG, "v1")).toEqual({
      migrations: {
        old_tag: "v1",
        new_tag: "v3",
        steps: [{ renamed_classes: [{ from: "Counter", to: "Tally" }] }, { new_classes: ["Legacy"], deleted_classes: ["Old"] }],
      },
    });
  });

  it("the last tag: nothing to send; no migrations configured: nothing either", () => {
    expect(migrationsToUpload(CONFIG, "v3")).toEqual({});
    expect(migrationsToUpload([], "v3")).toEqual({});
    expect(migrationsToUpload([], null)).toEqual({});
  });

  it("an unknown tag: every step from it, with a warning", () => {
    const out = migrationsToUpload(CONFIG, "v0-deleted");
    expect(out.migrations).toEqual({ old_tag: "v0-deleted", new_tag: "v3", steps: expect.any(Array) });
    expect(out.migrations!.steps).toHaveLength(3);
    expect(out.warning).toMatch(/"v0-deleted", which is not among the configured migrations/);
  });
});
