import { describe, expect, it } from "vitest";
import { applyHeaders, applyRedirects, type InvalidRule, parseHeaders, parseRedirects } from "./assets-rules.ts";

const req = (path: string, host = "shop.test") => new Request(`https://${host}${path}`);

describe("_redirects, as Cloudflare parses and applies it", () => {
  const rules = parseRedirects(
    [
      "# comments and blank lines are skipped",
      "",
      "/old /new 301",
      "/temp /new",
      "/blog https://blog.example.com/ 308  # trailing comment",
      "/keep /target?x=1 302",
      "/users/:id /profile/:id 301",
      "/docs/* /manual/:splat",
      "/app/* /shell.html 200",
      "/after-dynamic /static-but-late 301",
      "/old /ignored-duplicate 302",
      "/bad-status /x 404",
      "/proxy-abroad https://elsewhere.test/ 200",
      "/too many tokens here 301",
      "/loop/* /index.html",
    ].join("\n"),
  );

  it("splits rules before the first dynamic one into exact rules, and drops invalid lines", () => {
    expect(Object.keys(rules.staticRules)).toEqual(["/old", "/temp", "/blog", "/keep"]);
    expect(rules.staticRules["/old"]).toEqual({ status: 301, to: "/new", lineNumber: 3 });
    expect(rules.staticRules["/temp"]!.status).toBe(302);
    expect(Object.keys(rules.rules)).toEqual(["/users/:id", "/docs/*", "/app/*", "/after-dynamic"]);
  });

  it("says why each skipped line is skipped, in wrangler's words, with its line number", () => {
    const invalid: InvalidRule[] = [];
    parseRedirects("/a /b\n/a /c\n/x /y 404\n/p https://e.test/ 200\n/one two three four\n/l/* /index.html", undefined, invalid);
    expect(invalid.map((r) => [r.lineNumber, r.message.split(".")[0]])).toEqual([
      [2, "Ignoring duplicate rule for path /a"],
      [3, "Valid status codes are 200, 301, 302 (default), 303, 307, or 308"],
      [4, "Proxy (200) redirects can only point to relative paths"],
      [5, "Expected exactly 2 or 3 whitespace-separated tokens"],
      [6, "Infinite loop detected in this rule and has been ignored"],
    ]);
    const headers: InvalidRule[] = [];
    parseHeaders("X-A: 1\n/a/*/b/*\n  X-B: 2\n/empty\n/ok\n  no colon here\n  X-C: 3\n", headers);
    expect(headers.map((r) => r.message.split(".")[0])).toEqual([
      "Path should come before header (x-a: 1)",
      "Only one wildcard is allowed per rule",
      "No headers specified",
      "Expected a colon-separated header pair (e",
    ]);
  });

  it("answers redirects with the status, keeping the query unless the target sets one", () => {
    const at = (path: string) => {
      const r = applyRedirects(rules, req(path));
      return r instanceof Response ? [r.status, r.headers.get("location")] : r;
    };
    expect(at("/old?utm=1")).toEqual([301, "/new?utm=1"]);
    expect(at("/temp")).toEqual([302, "/new"]);
    expect(at("/blog?q=2")).toEqual([308, "https://blog.example.com/?q=2"]);
    expect(at("/keep?y=2")).toEqual([302, "/target?x=1"]);
    expect(at("/users/42")).toEqual([301, "/profile/42"]);
    expect(at("/docs/a/b")).toEqual([302, "/manual/a/b"]);
    expect(at("/after-dynamic")).toEqual([301, "/static-but-late"]);
    expect(at("/app/settings")).toEqual({ rewrite: "/shell.html" });
    expect(at("/bad-status")).toBeNull();
    expect(at("/proxy-abroad")).toBeNull();
    expect(at("/loop/x")).toBeNull();
    expect(at("/nothing")).toBeNull();
  });
});

describe("_headers, as Cloudflare parses and applies it", () => {
  const rules = parseHeaders(
    [
      "X-Orphan: before any path, so it belongs to nothing",
      "/*",
      "  X-Frame-Options: DENY",
      "  X-Tag: a",
      "/assets/:name",
      "  Cache-Control: public, max-age=31536000",
      "  X-Tag: b",
      "  X-Asset: :name",
      "/private/*",
      "  ! Cache-Control",
      "  X-Robots-Tag: noindex",
      "https://shop.test/host-only",
      "  X-Host: yes",
      "/empty",
      "/a/*/b/*",
      "  X-Two-Splats: skipped",
    ].join("\n"),
  );

  it("keeps a rule per path, lower-cases names, drops paths with no headers or two splats", () => {
    expect(Object.keys(rules)).toEqual(["/*", "/assets/:name", "/private/*", "https://shop.test/host-only"]);
    expect(rules["/*"]).toEqual({ set: { "x-frame-options": "DENY", "x-tag": "a" } });
    expect(rules["/private/*"]).toEqual({ set: { "x-robots-tag": "noindex" }, unset: ["Cache-Control"] });
  });

  it("sets, appends a name set again, removes, replaces placeholders, and matches a host", () => {
    const on = (path: string, host?: string) =>
      applyHeaders(rules, req(path, host), new Response("x", { headers: { "cache-control": "public, max-age=0" } })).headers;
    const asset = on("/assets/app.js");
    expect(asset.get("cache-control")).toBe("public, max-age=31536000");
    expect(asset.get("x-tag")).toBe("a, b");
    expect(asset.get("x-asset")).toBe("app.js");
    expect(asset.get("x-frame-options")).toBe("DENY");
    const priv = on("/private/x");
    expect(priv.get("cache-control")).toBeNull();
    expect(priv.get("x-robots-tag")).toBe("noindex");
    expect(on("/host-only").get("x-host")).toBe("yes");
    expect(on("/host-only", "other.test").get("x-host")).toBeNull();
  });
});
