import { describe, expect, it } from "vitest";
import { assetIntent, decodeAssetPath, runsWorkerFirst, type AssetConfig } from "./assets-intent.ts";

const files = (paths: string[]) => {
  const m = new Map(paths.map((p, i) => [p, `h${i}`]));
  return (p: string) => m.get(p);
};
const cfg = (html: AssetConfig["html_handling"], notFound: AssetConfig["not_found_handling"] = "none"): AssetConfig => ({
  html_handling: html,
  not_found_handling: notFound,
});

describe("assetIntent, auto-trailing-slash (the default)", () => {
  const exists = files(["/index.html", "/about.html", "/blog/index.html", "/app.js", "/404.html", "/docs/404.html"]);
  const c = cfg("auto-trailing-slash");
  it("serves index.html at / and x.html at /x, x/index.html at /x/", () => {
    expect(assetIntent("/", c, exists)).toEqual({ hash: "h0", status: 200 });
    expect(assetIntent("/about", c, exists)).toEqual({ hash: "h1", status: 200 });
    expect(assetIntent("/blog/", c, exists)).toEqual({ hash: "h2", status: 200 });
    expect(assetIntent("/app.js", c, exists)).toEqual({ hash: "h3", status: 200 });
  });
  it("redirects the other spellings to the canonical one", () => {
    expect(assetIntent("/index.html", c, exists)).toEqual({ redirect: "/" });
    expect(assetIntent("/about.html", c, exists)).toEqual({ redirect: "/about" });
    expect(assetIntent("/about/", c, exists)).toEqual({ redirect: "/about" });
    expect(assetIntent("/blog", c, exists)).toEqual({ redirect: "/blog/" });
    expect(assetIntent("/blog/index.html", c, exists)).toEqual({ redirect: "/blog/" });
  });
  it("answers nothing for unknown paths unless not_found_handling says otherwise", () => {
    expect(assetIntent("/nope", c, exists)).toBeNull();
    expect(assetIntent("/nope", cfg("auto-trailing-slash", "single-page-application"), exists)).toEqual({ hash: "h0", status: 200 });
    expect(assetIntent("/docs/deep/nope", cfg("auto-trailing-slash", "404-page"), exists)).toEqual({ hash: "h5", status: 404 });
    expect(assetIntent("/other/nope", cfg("auto-trailing-slash", "404-page"), exists)).toEqual({ hash: "h4", status: 404 });
  });
});

describe("assetIntent, other html_handling modes", () => {
  const exists = files(["/index.html", "/about.html", "/blog/index.html"]);
  it("none serves exact paths only", () => {
    expect(assetIntent("/about", cfg("none"), exists)).toBeNull();
    expect(assetIntent("/about.html", cfg("none"), exists)).toEqual({ hash: "h1", status: 200 });
  });
  it("force-trailing-slash puts pages under /x/", () => {
    expect(assetIntent("/about", cfg("force-trailing-slash"), exists)).toEqual({ redirect: "/about/" });
    expect(assetIntent("/about/", cfg("force-trailing-slash"), exists)).toEqual({ hash: "h1", status: 200 });
  });
  it("drop-trailing-slash puts pages under /x", () => {
    expect(assetIntent("/blog/", cfg("drop-trailing-slash"), exists)).toEqual({ redirect: "/blog" });
    expect(assetIntent("/blog", cfg("drop-trailing-slash"), exists)).toEqual({ hash: "h2", status: 200 });
    expect(assetIntent("/", cfg("drop-trailing-slash"), exists)).toEqual({ hash: "h0", status: 200 });
  });
});

describe("runsWorkerFirst and path decoding", () => {
  it("takes true, false and route patterns with negations", () => {
    expect(runsWorkerFirst(true, "/x")).toBe(true);
    expect(runsWorkerFirst(undefined, "/x")).toBe(false);
    expect(runsWorkerFirst(["/api/*"], "/api/users")).toBe(true);
    expect(runsWorkerFirst(["/api/*"], "/index.html")).toBe(false);
    expect(runsWorkerFirst(["/api/*", "!/api/docs/*"], "/api/docs/a")).toBe(false);
    // `*` anywhere, any number of times; every other character (regex ones too) is itself.
    expect(runsWorkerFirst(["/*/v?/*.json"], "/a/v?/b.json")).toBe(true);
    expect(runsWorkerFirst(["/*/v?/*.json"], "/a/v1/b.json")).toBe(false);
    expect(runsWorkerFirst(["*"], "/")).toBe(true);
    expect(runsWorkerFirst(["/a*b*c"], "/axxbyyc")).toBe(true);
    expect(runsWorkerFirst(["/a*b*c"], "/axxcyyb")).toBe(false);
  });
  it("a pattern with many * against a long public path ends (a regular expression of it backtracked for minutes)", () => {
    expect(runsWorkerFirst([`/${"*a".repeat(12)}b`], `/${"a".repeat(8000)}`)).toBe(false);
  });
  it("decodes each segment and folds slashes", () => {
    expect(decodeAssetPath("/a%20b//c")).toBe("/a b/c");
  });
});
