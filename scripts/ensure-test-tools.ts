// First step of `npm test` and `npm run bench`: every program of scripts/test-tools.ts must be
// there before a single test runs, because a test that cannot run its tool would fail (and one
// that skipped would hide it). When some are missing:
//   - as root with apt-get (a CI runner, a container, a fresh VPS): `apt-get update`, then
//     `apt-get install -y --no-install-recommends <packages>`, then check again;
//   - otherwise (a laptop without root, a system without apt-get): stop with one line naming the
//     command to run, exit 1. Nothing is ever skipped.
import { spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { TEST_TOOLS, type TestTool } from "./test-tools.ts";

const APT_GET = "/usr/bin/apt-get";

export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export type ToolPlan = { kind: "ready" } | { kind: "install"; packages: string[]; commands: string[][] } | { kind: "stop"; line: string };

/** What to do about the missing tools, given who we are (pure, so that the choice is tested). */
export function planTools(missing: TestTool[], env: { root: boolean; aptGet: boolean }): ToolPlan {
  if (missing.length === 0) return { kind: "ready" };
  const packages = [...new Set(missing.map((t) => t.debPackage))].sort();
  const install = ["apt-get", "install", "-y", "--no-install-recommends", ...packages];
  const what = missing.map((t) => `${t.name} (${t.path})`).join(", ");
  if (env.root && env.aptGet) {
    // Wait for a dpkg lock held by another apt run instead of failing at once.
    const lock = ["-o", "DPkg::Lock::Timeout=600"];
    return {
      kind: "install",
      packages,
      commands: [
        ["apt-get", ...lock, "update"],
        [...install.slice(0, 1), ...lock, ...install.slice(1)],
      ],
    };
  }
  const command = `sudo apt-get update && sudo ${install.join(" ")}`;
  const line = env.aptGet
    ? `error: the tests need ${what}, not installed; run: ${command}`
    : `error: the tests need ${what}, not installed, and this system has no apt-get; install the package(s) providing them (Debian/Ubuntu: ${command})`;
  return { kind: "stop", line };
}

function missingTools(): TestTool[] {
  return Object.values(TEST_TOOLS).filter((t) => !isExecutable(t.path));
}

function main(): number {
  const env = { root: process.getuid?.() === 0, aptGet: isExecutable(APT_GET) };
  const plan = planTools(missingTools(), env);
  if (plan.kind === "ready") return 0;
  if (plan.kind === "stop") {
    process.stderr.write(plan.line + "\n");
    return 1;
  }
  process.stderr.write(`ensure-test-tools: installing ${plan.packages.join(" ")} (Debian packages the tests run)\n`);
  for (const cmd of plan.commands) {
    process.stderr.write(`ensure-test-tools: ${cmd.join(" ")}\n`);
    // apt's progress goes to stderr so that stdout stays the test run's.
    const r = spawnSync(cmd[0]!, cmd.slice(1), { stdio: ["ignore", 2, 2], env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
    if (r.status !== 0) {
      process.stderr.write(`error: \`${cmd.join(" ")}\` failed (exit ${r.status ?? r.signal}); run it yourself, then npm test again\n`);
      return 1;
    }
  }
  const still = missingTools();
  if (still.length > 0) {
    process.stderr.write(`error: still missing after apt-get install: ${still.map((t) => t.path).join(", ")}\n`);
    return 1;
  }
  return 0;
}

if (import.meta.main) process.exitCode = main();
