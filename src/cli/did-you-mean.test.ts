import { describe, expect, it } from "vitest";
import { closest } from "../kit/did-you-mean.ts";
import { COMMAND_NAMES } from "./usage/index.ts";

describe("closest", () => {
  it("finds the command or flag a typo meant: a letter off, missing, extra or two swapped", () => {
    expect(closest("statsu", COMMAND_NAMES)).toBe("status");
    expect(closest("relase", COMMAND_NAMES)).toBe("release");
    expect(closest("rollbak", COMMAND_NAMES)).toBe("rollback");
    expect(closest("secret", COMMAND_NAMES)).toBe("secrets");
    expect(closest("jsno", ["json", "debug", "help"])).toBe("json");
    expect(closest("JSON", ["json"])).toBe("json");
  });
  it("offers nothing that is not close", () => {
    expect(closest("xyzzy", COMMAND_NAMES)).toBeUndefined();
    expect(closest("zzz", ["json", "url", "data"])).toBeUndefined();
    expect(closest("deploy", COMMAND_NAMES)).toBeUndefined();
  });
});
