import { describe, expect, it } from "vitest";
import { likeMatch } from "./filter.ts";

/** What `_like` meant when it was a regular expression: the reference, on inputs too small to backtrack for long. */
const reference = (pattern: string, text: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
      .replace(/%/g, ".*")
      .replace(/_/g, ".")}$`,
    "s",
  ).test(text);

describe("_like patterns", () => {
  it("% is any run, _ one character, everything else itself (case kept, regex characters literal)", () => {
    const cases: Array<[string, string, boolean]> = [
      ["w%", "w1", true],
      ["%", "", true],
      ["_", "", false],
      ["a_c", "abc", true],
      ["a%c", "ac", true],
      ["a%c", "abdc", true],
      ["a%c", "abd", false],
      ["%%", "x", true],
      ["W%", "w1", false],
      ["a.c", "abc", false],
      ["a.c", "a.c", true],
      ["a%b", "a\nb", true],
      ["%a%b%", "xxaxxbxx", true],
      ["%a%b%", "xxbxxaxx", false],
    ];
    for (const [pattern, text, want] of cases) expect([pattern, text, likeMatch(pattern, text)]).toEqual([pattern, text, want]);
  });

  it("agrees with the regular expression it replaces on every short pattern and text", () => {
    const alphabet = ["a", "b", "%", "_"];
    const words = (n: number): string[] => (n === 0 ? [""] : words(n - 1).flatMap((w) => alphabet.map((c) => w + c)));
    const patterns = [0, 1, 2, 3, 4].flatMap(words);
    const texts = [0, 1, 2, 3, 4].flatMap(words).filter((t) => !/[%_]/.test(t));
    for (const p of patterns) for (const t of texts) expect([p, t, likeMatch(p, t)]).toEqual([p, t, reference(p, t)]);
  });

  it("a pattern of many % against a long name ends (as a regular expression it backtracked for minutes)", () => {
    expect(likeMatch(`${"%".repeat(40)}x`, "a".repeat(500))).toBe(false);
    expect(likeMatch(`${"%a".repeat(40)}x`, "a".repeat(500))).toBe(false);
  });
});
