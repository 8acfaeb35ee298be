// The .assetsignore matcher against wrangler's own: node-ignore 5.3.1 as bundled in the pinned
// wrangler's cli.js is loaded from there, and both decide every pattern set on every path.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { createIgnorer, DEFAULT_ASSETS_IGNORE } from "./assets-ignore.ts";

type NodeIgnore = { add(p: string[]): NodeIgnore; test(path: string): { ignored: boolean } };

/** wrangler's bundled node-ignore factory, cut out of its cli.js and evaluated. */
function wranglersIgnore(): () => NodeIgnore {
  const cli = readFileSync(fileURLToPath(new URL("../../node_modules/wrangler/wrangler-dist/cli.js", import.meta.url)), "utf8");
  const head = '"../../node_modules/.pnpm/ignore@5.3.1/node_modules/ignore/index.js"(exports2, module2) {';
  const start = cli.indexOf(head);
  expect(start, "wrangler still bundles node-ignore 5.3.1").toBeGreaterThan(0);
  const body = cli.slice(start + head.length, cli.indexOf("\n  }\n});", start));
  const module2 = { exports: {} as unknown };
  new Function("exports2", "module2", "init_import_meta_url", "__name", body)(
    module2.exports,
    module2,
    () => {},
    (f: unknown) => f,
  );
  return module2.exports as () => NodeIgnore;
}

const PATTERNS: string[][] = [
  [],
  ["*.md"],
  ["*.md", "!keep.md"],
  ["dist/"],
  ["dist"],
  ["/dist"],
  ["docs/*.html"],
  ["**/secret*"],
  ["a/**/z.txt"],
  ["private/**"],
  ["private/**", "!private/public.txt"],
  ["*", "!*.html"],
  ["*", "!*/", "!*.css"],
  ["# a comment", "\\#hash.txt", "\\!bang.txt"],
  ["trailing.txt   ", "spaced\\ name.txt"],
  ["file?.txt", "[ab].js", "[!c]x.js", "[z-a].js"],
  ["_worker.js", "_routes.json"],
  ["*.MAP"],
  ["img/*.PNG", "!img/keep.png"],
  ["nested/deep/", "!nested/deep/file.txt"],
  ["\uFEFFbom.txt"],
  ["a\\*b.txt"],
  ["**/*.txt", "!**/keep/*.txt"],
  ["x/y", "!x"],
];

const PATHS = [
  "index.html",
  "readme.md",
  "keep.md",
  "docs/guide.md",
  "docs/a.html",
  "docs/sub/b.html",
  "dist",
  "dist/app.js",
  "src/dist/app.js",
  "secret.txt",
  "a/secret.key",
  "a/b/c/secrets.json",
  "a/z.txt",
  "a/b/z.txt",
  "a/b/c/z.txt",
  "z.txt",
  "private/x.txt",
  "private/public.txt",
  "private",
  "style.css",
  "sub/style.css",
  "sub/page.html",
  "#hash.txt",
  "!bang.txt",
  "trailing.txt",
  "spaced name.txt",
  "file1.txt",
  "file12.txt",
  "a.js",
  "b.js",
  "c.js",
  "cx.js",
  "dx.js",
  "_worker.js",
  "_routes.json",
  "app.js.map",
  "APP.JS.MAP",
  "img/logo.png",
  "img/keep.png",
  "img/sub/x.png",
  "nested/deep/file.txt",
  "nested/deep/other.txt",
  "nested/file.txt",
  "bom.txt",
  "a*b.txt",
  "axb.txt",
  "keep/a.txt",
  "x/keep/a.txt",
  "x/y",
  "x/y/z",
  "x",
  ".assetsignore",
  "_redirects",
  "_headers",
  "sub/_headers",
  ".well-known/security.txt",
];

describe(".assetsignore matching (node-ignore 5.3.1, as wrangler bundles it)", () => {
  const factory = wranglersIgnore();

  it("decides every pattern set on every path as wrangler's copy does", () => {
    const disagreements: string[] = [];
    for (const patterns of PATTERNS) {
      const all = [...DEFAULT_ASSETS_IGNORE, ...patterns];
      const theirs = factory().add(all);
      const ours = createIgnorer(all);
      for (const path of PATHS) {
        const expected = theirs.test(path).ignored;
        if (ours.ignores(path) !== expected) disagreements.push(`${JSON.stringify(patterns)} ${path}: wrangler ${expected}`);
      }
    }
    expect(disagreements).toEqual([]);
  });

  it("is not trivially agreeing: the cases ignore some paths and keep others", () => {
    const ours = createIgnorer([...DEFAULT_ASSETS_IGNORE, "*.md", "!keep.md", "dist/"]);
    expect(["readme.md", "docs/guide.md", "dist/app.js", "_redirects", "_headers", ".assetsignore"].map((p) => ours.ignores(p))).toEqual([
      true,
      true,
      true,
      true,
      true,
      true,
    ]);
    expect(["keep.md", "index.html", "dist", "sub/_headers"].map((p) => ours.ignores(p))).toEqual([false, false, false, false]);
  });

  it("splits multi-line input on LF and CRLF, as .assetsignore is read", () => {
    const ours = createIgnorer(["a.txt\r\nb.txt\nc.txt"]);
    expect(["a.txt", "b.txt", "c.txt", "d.txt"].map((p) => ours.ignores(p))).toEqual([true, true, true, false]);
  });
});
