import { describe, expect, it } from "vitest";
import { describeContractRecovery, verifiedPrefix } from "./d1-contract-recover.ts";
import type { D1Migrations } from "./release-build.ts";

const file = (name: string, sha256: string) => ({
  name,
  file: `/p/migrations/${name}`,
  sql: "",
  sha256,
  contract: true,
  breaksRollback: false,
});
const now = (...files: ReturnType<typeof file>[]): D1Migrations => ({ binding: "DB", database: "notes", table: "d1_migrations", files });

describe("which pending contract files recovery may run", () => {
  const planned = {
    pending: ["0003_a.sql", "0004_b.sql", "0005_c.sql"],
    sha256: { "0003_a.sql": "a", "0004_b.sql": "b", "0005_c.sql": "c" },
  };

  it("every file still as planned, less what the table holds already", () => {
    const r = verifiedPrefix(
      planned,
      now(file("0003_a.sql", "a"), file("0004_b.sql", "b"), file("0005_c.sql", "c")),
      new Set(["0003_a.sql"]),
    );
    expect(r.files.map((f) => f.name)).toEqual(["0004_b.sql", "0005_c.sql"]);
    expect(r.held).toBeUndefined();
  });

  it("stops at the first file that changed, vanished or has no planned hash; a changed file already applied does not matter", () => {
    const changed = verifiedPrefix(planned, now(file("0003_a.sql", "a"), file("0004_b.sql", "B!"), file("0005_c.sql", "c")), new Set());
    expect(changed).toEqual({
      files: [expect.objectContaining({ name: "0003_a.sql" })],
      held: { file: "0004_b.sql", why: "it changed since the release planned it" },
    });
    const gone = verifiedPrefix(planned, now(file("0004_b.sql", "b")), new Set());
    expect(gone).toEqual({ files: [], held: { file: "0003_a.sql", why: "it is no longer in the project" } });
    const older = verifiedPrefix({ pending: planned.pending }, now(file("0003_a.sql", "a")), new Set());
    expect(older.held).toEqual({ file: "0003_a.sql", why: "the release recorded no content hash to check it against" });
    const landed = verifiedPrefix(
      planned,
      now(file("0003_a.sql", "edited"), file("0004_b.sql", "b"), file("0005_c.sql", "c")),
      new Set(["0003_a.sql"]),
    );
    expect(landed.held).toBeUndefined();
  });

  it("says what it ran and what it held back, with the commands that finish the job", () => {
    expect(
      describeContractRecovery(
        {
          applied: [{ target: "eu", database: "notes", files: ["0003_a.sql"] }],
          held: [{ target: "us", database: "notes", file: "0004_b.sql", why: "it changed since the release planned it" }],
        },
        "api",
      ),
    ).toBe(
      "contract phase finished by recovery: eu applied 0003_a.sql to D1 notes; contract migrations not run: 0004_b.sql on us (D1 notes): it changed since the release planned it; review with cbo plan api, then finish with cbo release api",
    );
    expect(describeContractRecovery({ applied: [{ target: "eu", database: "notes", files: [] }], held: [] }, "api")).toBe("");
  });
});
