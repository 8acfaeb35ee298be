// The tools step in front of `npm test`: what it decides (install as root with apt-get, else one
// line naming the command), that `npm test` and `npm run bench` run it first and CI runs exactly
// the README's command, and that no test names a system binary the list does not hold.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { isExecutable, planTools } from "../scripts/ensure-test-tools.ts";
import { TEST_TOOLS } from "../scripts/test-tools.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
const { chromium, shellcheck, systemdAnalyze } = TEST_TOOLS;

describe("ensure-test-tools", () => {
  it("does nothing when every tool is there", () => {
    expect(planTools([], { root: false, aptGet: false })).toEqual({ kind: "ready" });
  });

  it("as root with apt-get: apt-get update, then one install of the missing packages without recommends", () => {
    const plan = planTools([shellcheck, chromium, systemdAnalyze], { root: true, aptGet: true });
    expect(plan).toEqual({
      kind: "install",
      packages: ["chromium", "shellcheck", "systemd"],
      commands: [
        ["apt-get", "-o", "DPkg::Lock::Timeout=600", "update"],
        ["apt-get", "-o", "DPkg::Lock::Timeout=600", "install", "-y", "--no-install-recommends", "chromium", "shellcheck", "systemd"],
      ],
    });
  });

  it("without root, or without apt-get: one line that names the exact command, nothing installed", () => {
    for (const env of [
      { root: false, aptGet: true },
      { root: true, aptGet: false },
      { root: false, aptGet: false },
    ]) {
      const plan = planTools([chromium, shellcheck], env);
      expect(plan.kind).toBe("stop");
      const line = (plan as { line: string }).line;
      expect(line).not.toContain("\n");
      expect(line).toContain("chromium (/usr/bin/chromium), shellcheck (/usr/bin/shellcheck)");
      expect(line).toContain("sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium shellcheck");
    }
  });

  it("runs before the type check and the tests, and before the benchmarks; CI runs exactly the README's command", () => {
    expect(pkg.scripts.test).toMatch(
      /^node scripts\/check-node\.ts && biome ci --error-on-warnings \. && node scripts\/ensure-test-tools\.ts && tsc /,
    );
    expect(pkg.scripts.test).toContain("vitest run");
    expect(pkg.scripts.bench).toMatch(/^node scripts\/ensure-test-tools\.ts && node bench\/run\.ts$/);
    const ci = readFileSync(join(ROOT, ".ci/run"), "utf8").trim().split("\n").at(-1);
    expect(ci).toBe("npm install && npm test");
    expect(readFileSync(join(ROOT, "README.md"), "utf8")).toContain("```sh\nnpm install && npm test\n```");
  });

  it("every tool is there now (npm test ran the step), as an executable at its listed path", () => {
    for (const t of Object.values(TEST_TOOLS)) expect(isExecutable(t.path), t.path).toBe(true);
  });

  it("no test or benchmark names a system binary that the list does not hold", () => {
    const files = [
      ...readdirSync(join(ROOT, "test"), { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile() && e.name.endsWith(".ts"))
        .map((e) => join(e.parentPath, e.name)),
      ...readdirSync(join(ROOT, "bench"))
        .filter((f) => f.endsWith(".ts"))
        .map((f) => join(ROOT, "bench", f)),
      ...readdirSync(join(ROOT, "src"), { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile() && e.name.endsWith(".test.ts"))
        .map((e) => join(e.parentPath, e.name)),
    ];
    // Named, never run: the program of the kit's systemd units (test/kit-files.test.ts checks the text).
    const notRun = new Set(["/usr/bin/node"]);
    const listed = new Set<string>([...Object.values(TEST_TOOLS).map((t) => t.path), ...notRun]);
    const unlisted = files.flatMap((f) =>
      [...readFileSync(f, "utf8").matchAll(/["'`](\/(?:usr\/)?s?bin\/[\w.+-]+)["'`]/g)]
        .map((m) => m[1]!)
        .filter((p) => !listed.has(p))
        .map((p) => `${f.slice(ROOT.length)}: ${p}`),
    );
    expect(unlisted).toEqual([]);
  });
});
