import { describe, expect, it } from "vitest";
import { variableOffset } from "./variable-offset.ts";

const marks = (n: number) => Array.from({ length: n }, () => "?").join(",");

describe("variableOffset", () => {
  it("finds the first parameter past the limit, as workerd's D1 reports it", () => {
    // workerd: "too many SQL variables at offset 207" for SELECT with 101 `?`.
    expect(variableOffset(`SELECT ${marks(101)}`, 100)).toBe(207);
    expect(variableOffset(`SELECT ${marks(100)}`, 100)).toBeUndefined();
  });
  it("skips strings, quoted names and comments; counts a name once; counts in bytes", () => {
    const names = Array.from({ length: 100 }, (_, i) => `:p${i}`).join(",");
    expect(variableOffset(`SELECT '?', "?", [?], \`?\`, ${names}, :p0 -- ?\n /* ? */`, 100)).toBeUndefined();
    expect(variableOffset(`SELECT 'é?', ${marks(3)}`, 2)).toBe("SELECT 'é?', ?,?,".length + 1);
    expect(variableOffset("SELECT ?5, ?", 5)).toBe("SELECT ?5, ".length);
  });
});
