import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadSpec } from "../config/load.ts";
import { isCboError } from "../kit/errors.ts";
import { readWorkerSources } from "./sources.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function project(files: Record<string, string>, yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), "cbo-sources-"));
  dirs.push(dir);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(dir, rel, ".."), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  writeFileSync(join(dir, "orchestrator.yaml"), `targets: [{ name: eu }]\nworkers:\n${yaml}`);
  return dir;
}

describe("readWorkerSources", () => {
  it("carries every file of each Worker's project, but dependencies, tool state, protected paths and secret files", () => {
    const dir = project(
      {
        "api/wrangler.toml": 'name = "api"\nmain = "src/index.js"\ncompatibility_date = "2025-01-01"\n',
        "api/src/index.js": "export default {};",
        "api/.dev.vars": "KEY=x",
        "api/.env.example": "KEY=",
        "api/.env.production": "KEY=x",
        "api/node_modules/x/index.js": "",
        "api/.wrangler/tmp/a.js": "",
        "api/certs/tls.pem": "x",
        "data/store.sqlite": "x",
        "package-lock.json": "{}",
      },
      "  - wrangler: api/wrangler.toml\n",
    );
    const spec = loadSpec(join(dir, "orchestrator.yaml"));
    const r = readWorkerSources(spec, { protect: [join(dir, "data")] });
    // A wrangler file inside the spec's directory: the project root is orchestrator.yaml's directory (its lockfile comes too).
    expect(r.files.map((f) => f.path).sort()).toEqual([
      "config/api/.env.example",
      "config/api/src/index.js",
      "config/api/wrangler.toml",
      "config/package-lock.json",
    ]);
    expect(r.leftOut.sort()).toEqual(["api/.dev.vars", "api/.env.production", "api/certs/tls.pem"]);
  });

  it("refuses a symlink out of the project, and a project outside the spec's directory", () => {
    const dir = project({ "hello/index.js": "export default {};" }, "  - { name: hello, main: hello/index.js }\n");
    const outside = mkdtempSync(join(tmpdir(), "cbo-outside-"));
    dirs.push(outside);
    writeFileSync(join(outside, "secret.txt"), "x");
    symlinkSync(join(outside, "secret.txt"), join(dir, "hello", "linked.txt"));
    const e = (() => {
      try {
        readWorkerSources(loadSpec(join(dir, "orchestrator.yaml")));
      } catch (err) {
        return err;
      }
    })();
    expect(isCboError(e) && e.code).toBe("ERR_BUNDLE_CONFINED");
    expect((e as Error).message).toContain("a symlink to");

    const far = mkdtempSync(join(tmpdir(), "cbo-far-"));
    dirs.push(far);
    writeFileSync(join(far, "wrangler.toml"), 'name = "far"\nmain = "index.js"\ncompatibility_date = "2025-01-01"\n');
    writeFileSync(join(far, "index.js"), "export default {};");
    const near = project({}, `  - wrangler: ${join(far, "wrangler.toml")}\n`);
    expect(() => readWorkerSources(loadSpec(join(near, "orchestrator.yaml")))).toThrow(/is outside .*: the kit carries Worker projects/);
  });
});
