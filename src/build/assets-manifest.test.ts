// The assets manifest on real directories: keys, wrangler's hash (computed here independently,
// as wrangler's hashFile calls blake3-wasm: hash(base64 + extension)), ignore rules, content
// types, `_redirects`/`_headers`, and what is refused (symlinks out, _worker.js, 25 MiB, the
// orchestrator's own files).
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { extname, join } from "node:path";
import blake3 from "blake3-wasm";
import { afterAll, describe, expect, it } from "vitest";
import { CboError } from "../kit/errors.ts";
import { buildAssetManifest, createAssetReader, MAX_ASSET_BYTES } from "./assets-manifest.ts";

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A project root holding `public/` with these files (path -> content). */
function project(files: Record<string, string | Buffer>): { root: string; dir: string } {
  const root = mkdtempSync(join(tmpdir(), "cbo-assets-"));
  made.push(root);
  const dir = join(root, "public");
  mkdirSync(dir);
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(join(dir, rel, ".."), { recursive: true });
    writeFileSync(join(dir, rel), content);
  }
  return { root, dir };
}

/** wrangler's hashFile, written out from its source (deploy-helpers/src/deploy/helpers/hash.ts). */
const wranglerHash = (content: string | Buffer, file: string) =>
  (blake3 as unknown as { hash(s: string): Buffer })
    .hash(Buffer.from(content).toString("base64") + extname(file).substring(1))
    .toString("hex")
    .slice(0, 32);

async function refusal(p: Promise<unknown>): Promise<CboError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(CboError);
  return e as CboError;
}

describe("assets manifest", () => {
  it("keys every file by its /path with wrangler's hash and size, and gives each its MIME type", async () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 255]);
    const { root, dir } = project({
      "index.html": "<h1>hi</h1>",
      "css/site.css": "body{}",
      "img/logo.png": png,
      README: "plain",
      "data.weird-ext": "x",
      ".well-known/security.txt": "contact",
    });
    const out = await buildAssetManifest(dir, { root });
    expect(Object.keys(out.manifest)).toEqual([
      "/.well-known/security.txt",
      "/README",
      "/css/site.css",
      "/data.weird-ext",
      "/img/logo.png",
      "/index.html",
    ]);
    expect(out.manifest["/index.html"]).toEqual({ hash: wranglerHash("<h1>hi</h1>", "index.html"), size: 11 });
    expect(out.manifest["/img/logo.png"]).toEqual({ hash: wranglerHash(png, "logo.png"), size: 8 });
    expect(out.manifest["/README"]!.hash).toBe(wranglerHash("plain", "README"));
    expect(out.manifest["/index.html"]!.hash).toMatch(/^[0-9a-f]{32}$/);
    // Same bytes, other extension: another hash (the extension is part of what is hashed).
    const twin = project({ "a.html": "same", "a.txt": "same" });
    const twins = await buildAssetManifest(twin.dir, { root: twin.root });
    expect(twins.manifest["/a.html"]!.hash).not.toBe(twins.manifest["/a.txt"]!.hash);
    const types = Object.fromEntries(out.files.map((f) => [f.path, f.contentType]));
    expect(types).toEqual({
      "/.well-known/security.txt": "text/plain; charset=utf-8",
      "/README": null,
      "/css/site.css": "text/css; charset=utf-8",
      "/data.weird-ext": null,
      "/img/logo.png": "image/png",
      "/index.html": "text/html; charset=utf-8",
    });
    const read = createAssetReader({ root });
    expect(Buffer.from(await read(out.files.find((f) => f.path === "/img/logo.png")!)).equals(png)).toBe(true);
  });

  it("leaves out what .assetsignore says, and always .assetsignore, _redirects and _headers, whose text it returns", async () => {
    const { root, dir } = project({
      ".assetsignore": "*.map\n/drafts/\n!keep.map\n",
      _redirects: "/old /new 301\n",
      _headers: "/*\n  X-Frame-Options: DENY\n",
      "app.js": "1",
      "app.js.map": "{}",
      "keep.map": "{}",
      "drafts/a.html": "draft",
      "sub/_headers": "not the root one",
    });
    const out = await buildAssetManifest(dir, { root });
    expect(Object.keys(out.manifest)).toEqual(["/app.js", "/keep.map", "/sub/_headers"]);
    expect(out.redirects).toBe("/old /new 301\n");
    expect(out.headers).toBe("/*\n  X-Frame-Options: DENY\n");
    const none = project({ "a.txt": "a" });
    const plain = await buildAssetManifest(none.dir, { root: none.root });
    expect(plain).not.toHaveProperty("redirects");
    expect(plain).not.toHaveProperty("headers");
  });

  it("follows a symlink to a file inside the directory, skips a linked directory, and refuses a link out of it", async () => {
    const { root, dir } = project({ "real.txt": "real", "inner/x.txt": "x" });
    symlinkSync(join(dir, "real.txt"), join(dir, "alias.txt"));
    symlinkSync(join(dir, "inner"), join(dir, "linked-dir"));
    const out = await buildAssetManifest(dir, { root });
    expect(Object.keys(out.manifest)).toEqual(["/alias.txt", "/inner/x.txt", "/real.txt"]);
    expect(out.manifest["/alias.txt"]).toEqual(out.manifest["/real.txt"]);

    writeFileSync(join(root, "outside.txt"), "not an asset");
    symlinkSync(join(root, "outside.txt"), join(dir, "leak.txt"));
    const e = await refusal(buildAssetManifest(dir, { root }));
    expect(e.code).toBe("ERR_BUNDLE_CONFINED");
    expect(e.message).toContain("leak.txt");
    expect(e.message).toContain("outside the assets directory");
    rmSync(join(dir, "leak.txt"));

    symlinkSync(join(dir, "gone.txt"), join(dir, "dangling.txt"));
    expect((await refusal(buildAssetManifest(dir, { root }))).message).toMatch(
      /dangling\.txt is a symlink to .*gone\.txt, which does not exist/,
    );
  });

  it("refuses an assets directory among the orchestrator's own files, or outside the project", async () => {
    const { root, dir } = project({ "a.txt": "a" });
    const e = await refusal(buildAssetManifest(dir, { root, protect: [dir] }));
    expect(e.code).toBe("ERR_BUNDLE_CONFINED");
    const other = project({ "b.txt": "b" });
    expect((await refusal(buildAssetManifest(other.dir, { root }))).code).toBe("ERR_BUNDLE_CONFINED");
    expect((await refusal(buildAssetManifest(join(root, "missing"), { root }))).message).toMatch(/does not exist/);
  });

  it("refuses a Pages _worker.js without an .assetsignore, and uploads it with an empty one", async () => {
    const { root, dir } = project({ "_worker.js": "export default {}" });
    const e = await refusal(buildAssetManifest(dir, { root }));
    expect(e.code).toBe("ERR_VALIDATION");
    expect(e.message).toContain("_worker.js file");
    const nested = project({ "_worker.js/index.js": "x" });
    expect((await refusal(buildAssetManifest(nested.dir, { root: nested.root }))).message).toContain("_worker.js directory");
    writeFileSync(join(dir, ".assetsignore"), "");
    expect(Object.keys((await buildAssetManifest(dir, { root })).manifest)).toEqual(["/_worker.js"]);
    writeFileSync(join(dir, ".assetsignore"), "_worker.js\n");
    expect(Object.keys((await buildAssetManifest(dir, { root })).manifest)).toEqual([]);
  });

  it("refuses a file over 25 MiB and an .assetsignore that is not UTF-8", async () => {
    const { root, dir } = project({ "ok.bin": "x" });
    writeFileSync(join(dir, "huge.bin"), "");
    truncateSync(join(dir, "huge.bin"), MAX_ASSET_BYTES + 1);
    const e = await refusal(buildAssetManifest(dir, { root }));
    expect(e.message).toMatch(/huge\.bin is 26214401 bytes/);
    writeFileSync(join(dir, ".assetsignore"), Buffer.from([0xff, 0xfe, 0x00]));
    expect((await refusal(buildAssetManifest(dir, { root }))).message).toMatch(/must be UTF-8/);
    writeFileSync(join(dir, ".assetsignore"), "huge.bin\n");
    expect(Object.keys((await buildAssetManifest(dir, { root })).manifest)).toEqual(["/ok.bin"]);
  });

  it("refuses to read an asset that changed size since the manifest was built", async () => {
    const { root, dir } = project({ "a.txt": "short" });
    const out = await buildAssetManifest(dir, { root });
    writeFileSync(join(dir, "a.txt"), "much longer now");
    expect((await refusal(createAssetReader({ root })(out.files[0]!))).code).toBe("ERR_CONFLICT");
  });
});
