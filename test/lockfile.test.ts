// The committed package-lock.json is what `npm install` leaves it as: a fresh clone's install must
// not rewrite it, and it must hold every platform's optional packages (workerd's and esbuild's
// binaries for macOS, Windows and Linux), or `npm ci` on another platform gets no binary. Checked
// with the real npm in a temp dir holding only package.json and the lockfile.
import { copyFileSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempDir } from "./support/edge.ts";
import { npm } from "./support/npm.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
type Lock = { packages: Record<string, { version?: string; dev?: boolean; optionalDependencies?: Record<string, string>; os?: string[] }> };
const committed = readFileSync(join(ROOT, "package-lock.json"));
const lock = JSON.parse(committed.toString("utf8")) as Lock;

/** Where npm finds `name` for the package at `from` (its node_modules, then its parents'). */
function locate(from: string, name: string): string | undefined {
  for (let base = from; ; ) {
    const at = `${base ? `${base}/` : ""}node_modules/${name}`;
    if (lock.packages[at]) return at;
    if (!base) return undefined;
    const up = base.lastIndexOf("/node_modules/");
    base = up >= 0 ? base.slice(0, up) : "";
  }
}

async function lockAfterInstall(dir: string): Promise<Buffer> {
  await npm(["install", "--package-lock-only", "--ignore-scripts", "--no-audit", "--no-fund", "--prefer-offline"], { cwd: dir });
  return readFileSync(join(dir, "package-lock.json"));
}

describe("package-lock.json", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir("lockfile");
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("holds every optional package of every locked package: each platform's workerd and esbuild binary", () => {
    const missing = Object.entries(lock.packages).flatMap(([at, p]) =>
      Object.keys(p.optionalDependencies ?? {})
        .filter((d) => !locate(at, d))
        .map((d) => `${at} -> ${d}`),
    );
    expect(missing).toEqual([]);
    const workerd = Object.keys(lock.packages["node_modules/workerd"]!.optionalDependencies ?? {});
    const esbuild = Object.keys(lock.packages["node_modules/esbuild"]!.optionalDependencies ?? {});
    for (const os of ["darwin", "win32", "linux"]) {
      expect(
        workerd.filter((d) => lock.packages[locate("", d)!]!.os?.includes(os)),
        `workerd for ${os}`,
      ).not.toEqual([]);
      expect(
        esbuild.filter((d) => lock.packages[locate("", d)!]!.os?.includes(os)),
        `esbuild for ${os}`,
      ).not.toEqual([]);
    }
  });

  it("is left byte for byte as it is by npm install (and a lockfile without a platform's binary is not)", async () => {
    copyFileSync(join(ROOT, "package.json"), join(dir, "package.json"));
    writeFileSync(join(dir, "package-lock.json"), committed);
    expect((await lockAfterInstall(dir)).equals(committed), "npm install rewrote package-lock.json: commit what it writes").toBe(true);
    // The check can fail: without workerd's darwin binary, npm puts it back.
    const trimmed = structuredClone(lock);
    delete trimmed.packages["node_modules/@cloudflare/workerd-darwin-64"];
    const written = Buffer.from(JSON.stringify(trimmed, null, 2) + "\n");
    writeFileSync(join(dir, "package-lock.json"), written);
    const after = await lockAfterInstall(dir);
    expect(after.equals(written)).toBe(false);
    expect(after.equals(committed)).toBe(true);
  });

  it("keeps the Node 24 package and the SDK out of a production install", () => {
    expect(lock.packages["node_modules/node"]).toMatchObject({ dev: true });
    expect(lock.packages["node_modules/cloudflare"]).toMatchObject({ dev: true });
  });
});
