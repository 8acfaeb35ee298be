import { describe, expect, it } from "vitest";
import { wildcardMatch } from "./wildcard-match.ts";

const like = (p: string, t: string) => wildcardMatch(p, t, { any: "%", one: "_" });
const glob = (p: string, t: string) => wildcardMatch(p, t, { any: "*" });

describe("wildcardMatch", () => {
  it("matches LIKE patterns: % any run, _ one character, the rest literally and case kept", () => {
    expect(like("ads-%", "ads-api")).toBe(true);
    expect(like("%-api", "ads-api")).toBe(true);
    expect(like("a_s%", "ads-api")).toBe(true);
    expect(like("a_s", "ads-api")).toBe(false);
    expect(like("ADS%", "ads-api")).toBe(false);
    expect(like("%", "")).toBe(true);
    expect(like("_", "")).toBe(false);
  });

  it("reads a wildcard as a wildcard even where the text holds the same character", () => {
    // Taken as a literal first, `%` would eat the text's `%` and miss the match.
    expect(like("%a", "%ba")).toBe(true);
    expect(glob("*a", "*ba")).toBe(true);
  });

  it("treats `_` literally in a glob, and `*` as any run", () => {
    expect(glob("/api/*", "/api/v1/x")).toBe(true);
    expect(glob("/a_c", "/abc")).toBe(false);
    expect(glob("/a_c", "/a_c")).toBe(true);
    expect(glob("*.js", "/app.css")).toBe(false);
  });

  it("settles a pattern of many wildcards against a long text that it does not match", () => {
    // A regular expression built from these backtracks for minutes; two pointers take at most
    // len(pattern) x len(text) steps, so this returns at once.
    expect(like(`${"%a".repeat(30)}b`, "a".repeat(5_000))).toBe(false);
    expect(glob(`${"*a".repeat(30)}b`, "a".repeat(5_000))).toBe(false);
  });
});
