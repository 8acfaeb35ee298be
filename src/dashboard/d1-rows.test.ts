import { describe, expect, it } from "vitest";
import { d1Rows } from "./d1-rows.ts";
import type { Release } from "./types.ts";

const release = (over: Partial<Release>): Release =>
  ({
    id: "r1",
    tenant: "default",
    worker: "notes",
    kind: "release",
    status: "succeeded",
    reason: null,
    plan: {},
    created_at: "2026-01-01T00:00:00.000Z",
    created_by: null,
    ...over,
  }) as Release;

describe("the D1 page's rows", () => {
  it("one row per release, target and binding, with the expand then contract files it planned", () => {
    const plan = {
      targets: [
        {
          name: "eu",
          d1Migrations: [{ binding: "DB", database: "notes", pending: ["0002_add.sql"] }],
          d1Contract: [{ binding: "DB", database: "notes", pending: ["0003_drop.sql"], sha256: { "0003_drop.sql": "x" } }],
        },
        { name: "us", d1Migrations: [{ binding: "DB", database: "notes", pending: ["0001_init.sql", "0002_add.sql"] }] },
        // Nothing pending there: no bookmark was taken, no row.
        { name: "ap" },
      ],
    };
    expect(d1Rows([release({ id: "r2", plan })])).toEqual([
      {
        worker: "notes",
        target: "eu",
        binding: "DB",
        database: "notes",
        release: "r2",
        status: "succeeded",
        at: "2026-01-01T00:00:00.000Z",
        files: ["0002_add.sql", "0003_drop.sql"],
      },
      expect.objectContaining({ target: "us", files: ["0001_init.sql", "0002_add.sql"] }),
    ]);
  });

  it("leaves out rollbacks, unchanged releases and plans of an older shape", () => {
    const plan = { targets: [{ name: "eu", d1Migrations: [{ binding: "DB", database: "notes", pending: ["0001.sql"] }] }] };
    expect(d1Rows([release({ kind: "rollback", plan }), release({ status: "unchanged", plan })])).toEqual([]);
    expect(
      d1Rows([release({ plan: { targets: "nonsense" } }), release({ plan: { targets: [{ name: "eu", d1Migrations: [{}] }] } })]),
    ).toEqual([]);
    // A release that rolled back had still migrated (and bookmarked) before it stopped.
    expect(d1Rows([release({ status: "rolled_back", plan })])).toHaveLength(1);
  });
});
