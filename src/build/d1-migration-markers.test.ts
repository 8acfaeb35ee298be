import { describe, expect, it } from "vitest";
import { d1MigrationMarkers } from "./d1-migration-markers.ts";

describe("D1 migration markers", () => {
  it("reads whole-line comments only, in any case and spacing", () => {
    expect(d1MigrationMarkers("-- cbo:contract\nDROP TABLE x;")).toEqual({ contract: true, breaksRollback: false });
    expect(d1MigrationMarkers("CREATE TABLE y (id INT);\n  --   CBO:Breaks-Rollback  \n")).toEqual({
      contract: false,
      breaksRollback: true,
    });
    expect(d1MigrationMarkers("-- cbo:contract\n-- cbo:breaks-rollback\n")).toEqual({ contract: true, breaksRollback: true });
  });
  it("ignores a marker inside a string or a longer comment", () => {
    expect(d1MigrationMarkers("INSERT INTO notes VALUES ('-- cbo:contract');")).toEqual({ contract: false, breaksRollback: false });
    expect(d1MigrationMarkers("-- not a cbo:contract migration\nSELECT 1;")).toEqual({ contract: false, breaksRollback: false });
  });
});
