import { describe, expect, it } from "vitest";
import type { CboError } from "../kit/errors.ts";
import { intFlag, parse } from "./args.ts";

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

describe("parse", () => {
  const options = { limit: { type: "string", short: "n" }, tag: { type: "string", multiple: true }, yes: { type: "boolean" } } as const;
  const usageError = (args: string[]) => {
    try {
      parse(args, options, "usage: cbo x");
    } catch (e) {
      return `${(e as CboError).code}: ${(e as CboError).message}`;
    }
    return "accepted";
  };

  it("takes a negative number after a value flag as its value, so the flag's own check names it", () => {
    expect(parse(["--limit", "-1"], options, "").values.limit).toBe("-1");
    expect(parse(["-n", "-3", "w"], options, "")).toMatchObject({ values: { limit: "-3" }, positionals: ["w"] });
    expect(() => intFlag(parse(["--limit", "-1"], options, "").values.limit, "limit", 1, 100)).toThrow(
      '--limit must be a whole number from 1 to 100 (got "-1")',
    );
    // After `--` everything is a positional, and a flag-looking value after a boolean is still a flag.
    expect(parse(["--", "--limit", "-1"], options, "").positionals).toEqual(["--limit", "-1"]);
    expect(usageError(["--yes", "-1"])).toBe("ERR_USAGE: -1 is not a flag, and a negative number is not a value this command takes.");
  });

  it("refuses a value flag given twice (parseArgs would keep the last), but not a list flag or a boolean", () => {
    expect(usageError(["--limit", "5", "--limit", "6"])).toBe("ERR_USAGE: --limit is given more than once.");
    expect(usageError(["--limit=5", "-n", "5"])).toBe("ERR_USAGE: --limit is given more than once.");
    expect(parse(["--tag", "a", "--tag", "b", "--yes", "--yes"], options, "").values).toEqual({ tag: ["a", "b"], yes: true });
  });
});
