import { describe, expect, it } from "vitest";
import type { CboError } from "../kit/errors.ts";
import { intFlag } from "./args.ts";

const refused = (value: string) => {
  try {
    intFlag(value, "limit", 0, 100);
  } catch (e) {
    return (e as CboError).code;
  }
  return "accepted";
};

describe("intFlag", () => {
  it("takes decimal digits in range", () => {
    expect([intFlag("0", "limit", 0, 100), intFlag("42", "limit", 0, 100), intFlag("-3", "n", -5, 5)]).toEqual([0, 42, -3]);
    expect(intFlag(undefined, "limit", 0, 100)).toBeUndefined();
  });

  it("refuses what Number() would quietly turn into a number: empty, spaces, hex, exponents, fractions", () => {
    for (const v of ["", " ", " 3", "3 ", "0x10", "1e2", "1.0", "1.5", "+3", "NaN", "Infinity", "101", "-1", "99999999999999999999"])
      expect([v, refused(v)]).toEqual([v, "ERR_USAGE"]);
  });
});
