// The static-assets manifest of a Worker, built from its assets directory exactly as wrangler
// builds it (deploy-helpers/src/deploy/helpers/assets.ts `buildAssetManifest`, hash.ts; see
// CLOUDFLARE-API-FLEET §6.1):
//   key     "/" + the path relative to the directory, forward slashes
//   hash    blake3(base64(bytes) + extension without the dot), hex, first 32 characters
//   size    bytes; over 25 MiB refuses the release
//   skipped what `.assetsignore` (gitignore rules, plus /.assetsignore, /_redirects, /_headers)
//           leaves out, directories, and symlinks to directories (wrangler's recursive readdir
//           does not enter them)
//   refused `_worker.js` (file or directory) without an `.assetsignore`, as wrangler refuses it
// Unlike wrangler, a symlink is followed only to a file inside the assets directory: one leading
// out of it (or to the orchestrator's own data) refuses the release instead of uploading the file
// it points at. Every file read goes through the build's confinement.
import { lstat, readdir, readFile, readlink, stat } from "node:fs/promises";
import { dirname, extname, join, relative, resolve, sep } from "node:path";
import { CboError } from "../kit/errors.ts";
import { createIgnorer, DEFAULT_ASSETS_IGNORE } from "./assets-ignore.ts";
import { createConfinement, realish, type Confinement } from "./confine.ts";

/** Per-file limit (wrangler's MAX_ASSET_SIZE). */
export const MAX_ASSET_BYTES = 25 * 1024 * 1024;
/** Per-manifest limit (workers-shared MAX_ASSET_COUNT). */
export const MAX_ASSET_COUNT = 100_000;

export type AssetManifest = Record<string, { hash: string; size: number }>;

export type AssetFile = {
  /** Manifest key, e.g. `/css/site.css`. */
  path: string;
  /** Absolute path of the file as found in the directory. */
  file: string;
  hash: string;
  size: number;
  /** What the bulk upload sends as the part's type: `mime` 4's type (`; charset=utf-8` added to text/*), or null (sent as application/null, served without a Content-Type). */
  contentType: string | null;
};

export type AssetsBuild = {
  manifest: AssetManifest;
  /** The files behind the manifest, by manifest key (several keys may share a hash). */
  files: AssetFile[];
  /** Contents of `_redirects` and `_headers` in the directory, which go into the upload's assets config. */
  redirects?: string;
  headers?: string;
};

export type AssetsBuildOptions = {
  /** The Worker's project root: the assets directory must lie inside it. */
  root: string;
  /** Never readable (the daemon's data directory, key files): see confine.ts. */
  protect?: string[];
  worker?: string;
};

/** Builds the manifest of `directory` (absolute), reading every file through the confinement. */
export async function buildAssetManifest(directory: string, opts: AssetsBuildOptions): Promise<AssetsBuild> {
  const c = createConfinement({ root: opts.root, protect: opts.protect ?? [], ...(opts.worker ? { worker: opts.worker } : {}) });
  const dir = resolve(directory);
  c.check(dir);
  const dirStat = await stat(dir).catch(() => undefined);
  if (!dirStat?.isDirectory()) {
    throw new CboError(
      "ERR_VALIDATION",
      `${opts.worker ? `Worker ${opts.worker}` : "The Worker"}'s assets directory ${dir} does not exist (or is not a directory).`,
      {
        hint: "Create it (and build the assets into it), or fix assets.directory in the wrangler file.",
      },
    );
  }
  const realDir = realish(dir);
  const who = opts.worker ? `Worker ${opts.worker}` : "The Worker";
  const ignoreFile = await readIfExists(c, join(dir, ".assetsignore"));
  let ignoreText: string | undefined;
  if (ignoreFile !== undefined) {
    try {
      ignoreText = new TextDecoder("utf-8", { fatal: true }).decode(ignoreFile);
    } catch {
      ignoreText = undefined;
    }
    if (ignoreText === undefined || ignoreText.includes("\0")) {
      throw new CboError(
        "ERR_VALIDATION",
        `The .assetsignore file at "${join(dir, ".assetsignore")}" must be UTF-8 encoded and must not contain null characters.`,
        { hint: "Save the file as UTF-8 and release again." },
      );
    }
  }
  const ignorer = createIgnorer([...DEFAULT_ASSETS_IGNORE, ...(ignoreText === undefined ? [] : ignoreText.split("\n"))]);

  const files: AssetFile[] = [];
  const { createHash } = await blake3();
  const mime = (await import("mime")).default;
  for (const rel of await walk(dir)) {
    if (ignorer.ignores(rel)) continue;
    const file = join(dir, ...rel.split("/"));
    const link = await lstat(file);
    if (link.isSymbolicLink()) {
      const real = realish(file);
      const target = await stat(file).catch(() => undefined);
      if (target === undefined)
        throw new CboError(
          "ERR_VALIDATION",
          `${who}'s asset ${file} is a symlink to ${resolve(dirname(file), await readlink(file))}, which does not exist.`,
          { hint: "Remove the broken symlink from the assets directory." },
        );
      if (target.isDirectory()) continue; // wrangler's walk does not enter linked directories either
      if (real !== realDir && !real.startsWith(realDir + sep)) {
        throw new CboError("ERR_BUNDLE_CONFINED", `${who}'s asset ${file} is a symlink to ${real}, outside the assets directory ${dir}.`, {
          details: { file, realPath: real, directory: dir },
          hint: "Copy the file into the assets directory instead of linking to it, or list it in .assetsignore.",
        });
      }
    } else if (!link.isFile()) continue;
    if (ignoreText === undefined && (rel === "_worker.js" || rel.startsWith("_worker.js"))) {
      const kind = rel === "_worker.js" ? "file" : "directory";
      throw new CboError(
        "ERR_VALIDATION",
        `${who} would upload a Pages _worker.js ${kind} (${file}) as a static asset, which could expose private server-side code.`,
        {
          hint: 'Remove it, or add an .assetsignore file to the assets directory containing "_worker.js" (an empty .assetsignore uploads it on purpose).',
        },
      );
    }
    c.check(file);
    const bytes = await readFile(file);
    if (bytes.byteLength > MAX_ASSET_BYTES) {
      throw new CboError(
        "ERR_VALIDATION",
        `${who}'s asset ${file} is ${bytes.byteLength} bytes; Cloudflare Workers serve assets of up to 25 MiB.`,
        {
          details: { file, size: bytes.byteLength, limit: MAX_ASSET_BYTES },
          hint: "Shrink or split the file, or list it in .assetsignore.",
        },
      );
    }
    files.push({
      path: `/${rel}`,
      file,
      hash: hashAsset(createHash, bytes, rel),
      size: bytes.byteLength,
      contentType: contentTypeOf(mime, file),
    });
  }
  if (files.length > MAX_ASSET_COUNT) {
    throw new CboError(
      "ERR_VALIDATION",
      `${who}'s assets directory ${dir} holds ${files.length} files; a Worker may have at most ${MAX_ASSET_COUNT}.`,
      { hint: "List what need not be served in .assetsignore." },
    );
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const manifest: AssetManifest = {};
  for (const f of files) manifest[f.path] = { hash: f.hash, size: f.size };
  const redirects = await readIfExists(c, join(dir, "_redirects"));
  const headers = await readIfExists(c, join(dir, "_headers"));
  return {
    manifest,
    files,
    ...(redirects === undefined ? {} : { redirects: redirects.toString("utf8") }),
    ...(headers === undefined ? {} : { headers: headers.toString("utf8") }),
  };
}

/**
 * Reads the assets of a built manifest for the upload: each read is checked against the
 * confinement again (the directory may have changed since the manifest was built), and a file
 * whose size no longer matches its manifest entry is refused rather than uploaded under a stale hash.
 */
export function createAssetReader(opts: AssetsBuildOptions): (file: AssetFile) => Promise<Uint8Array> {
  const c: Confinement = createConfinement({
    root: opts.root,
    protect: opts.protect ?? [],
    ...(opts.worker ? { worker: opts.worker } : {}),
  });
  return async (file) => {
    c.check(file.file);
    const bytes = await readFile(file.file);
    if (bytes.byteLength !== file.size) {
      throw new CboError(
        "ERR_CONFLICT",
        `Asset ${file.file} changed while the release ran (${file.size} bytes in the manifest, ${bytes.byteLength} now).`,
        { hint: "Release again once the assets directory holds its final files." },
      );
    }
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

type Blake3 = { createHash: () => { update(data: Uint8Array | string): unknown; digest(): Buffer } };

/** blake3-wasm, the package wrangler hashes with, loaded on first use (it is WebAssembly). */
async function blake3(): Promise<Blake3> {
  const mod = (await import("blake3-wasm")) as unknown as { default?: Blake3 } & Blake3;
  return mod.default ?? mod;
}

/** wrangler's hashFile: blake3(base64(bytes) + extension without the dot), 32 hex characters. */
export function hashAsset(createHash: Blake3["createHash"], bytes: Uint8Array, relativePath: string): string {
  const h = createHash();
  h.update(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64"));
  h.update(extensionOf(relativePath));
  return h.digest().toString("hex").slice(0, 32);
}

/** path.extname without the dot, as wrangler takes it: "" for `README`, `.htaccess` and `a.`. */
function extensionOf(path: string): string {
  return extname(path).substring(1);
}

function contentTypeOf(mime: { getType(path: string): string | null }, file: string): string | null {
  const type = mime.getType(file);
  return type?.startsWith("text/") && !type.includes("charset") ? `${type}; charset=utf-8` : type;
}

/** Every entry below `dir` as a relative path with forward slashes; linked directories are not entered. */
async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  const stack = [dir];
  while (stack.length > 0) {
    const at = stack.pop()!;
    for (const e of await readdir(at, { withFileTypes: true })) {
      const abs = join(at, e.name);
      out.push(relative(dir, abs).split(sep).join("/"));
      if (e.isDirectory()) stack.push(abs);
    }
  }
  return out;
}

/** A file's bytes, or undefined when there is no such file (as wrangler's maybeGetFile). */
async function readIfExists(c: Confinement, file: string): Promise<Buffer | undefined> {
  if ((await lstat(file).catch(() => undefined)) === undefined) return undefined;
  c.check(file);
  return readFile(file);
}
