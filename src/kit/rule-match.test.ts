// A rule's pattern matched without regex backtracking (rule-match.ts): the same answers and groups
// as the asset-worker's regex, and a pathological `_redirects`/`_headers` line no longer holds the
// router for minutes (with RegExp.exec the first test below does not end).
import { describe, expect, it } from "vitest";
import { applyHeaders, applyRedirects, parseHeaders, parseRedirects, ruleSource } from "./assets-rules.ts";
import { matchTokens, patternTokens } from "./rule-match.ts";

describe("rule patterns matched without backtracking", () => {
  it("a rule with twelve placeholders in one segment answers a long path at once, matching or not", () => {
    const many = "abcdefghijkl"
      .split("")
      .map((c) => `:${c}`)
      .join("");
    const redirects = parseRedirects(`/${many}/end /to/:a/:l 301\n`);
    const long = "x".repeat(300);
    expect(applyRedirects(redirects, new Request(`https://h.example/${long}/end/`))).toBeNull();
    const hit = applyRedirects(redirects, new Request(`https://h.example/${long}/end`)) as Response;
    expect(hit.headers.get("location")).toBe(`/to/${"x".repeat(289)}/x`);
    const headers = parseHeaders(`/${"abcdefghijkl".split("").join("-:").replace(/^/, ":")}\n  x-first: :a\n`);
    const dashes = Array.from({ length: 200 }, () => "y").join("-");
    expect(applyHeaders(headers, new Request(`https://h.example/${dashes}/`), new Response("ok")).headers.get("x-first")).toBeNull();
    expect(applyHeaders(headers, new Request(`https://h.example/${dashes}`), new Response("ok")).headers.get("x-first")).toBe(
      Array.from({ length: 189 }, () => "y").join("-"),
    );
  });

  it("answers as the regex does, groups included, over many patterns and paths", () => {
    const patterns = [
      "/:a",
      "/:a/:b",
      "/*",
      "/blog/*",
      "/:a-:b",
      "/:a.:b",
      "/:a:b",
      "/a/*/:id",
      "/*.html",
      "/x/:ab/:a",
      "https://:sub.example.com/*",
      "https://h.example/:p/*",
      "/(a)+?",
    ];
    // A fixed pseudo-random walk, so a failure repeats.
    let seed = 7;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const alphabet = "ab-./:(";
    let compared = 0;
    for (const pattern of patterns) {
      const source = ruleSource(pattern);
      const re = new RegExp(`^${source}$`);
      const tokens = patternTokens(source);
      for (let i = 0; i < 400; i++) {
        let path = pattern.startsWith("https://") ? ["https://x.example.com/", "https://h.example/"][next(2)]! : "/";
        for (let n = next(9); n > 0; n--) path += alphabet[next(alphabet.length)];
        const m = re.exec(path);
        expect(matchTokens(tokens, path), `${pattern} on ${path}`).toEqual(m ? { ...m.groups } : undefined);
        if (m) compared++;
      }
    }
    expect(compared).toBeGreaterThan(500);
  });
});
