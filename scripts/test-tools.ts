// The programs outside node_modules that the tests and benchmarks run, in one list: where each is
// looked for, the Debian package that provides it, and who needs it. scripts/ensure-test-tools.ts
// (the first step of `npm test` and `npm run bench`) makes sure of them; the tests take the paths
// from here, so a tool cannot be used without being listed.
//
// Why Debian packages and not npm packages: nothing on npm ships these binaries inside the package
// (the npm wrappers for Chromium and shellcheck download them from the internet at install time,
// which a locked-down CI or VPS forbids), while the distribution's packages are signed, match the
// machine's libraries, and install from the mirror the machine already uses.

export type TestTool = {
  /** The name used in messages. */
  name: string;
  /** The absolute path the tests run (never a PATH lookup, so the same binary is always used). */
  path: string;
  /** The Debian/Ubuntu package that installs `path`. */
  debPackage: string;
  usedBy: string[];
};

export const TEST_TOOLS = {
  chromium: {
    name: "chromium",
    path: "/usr/bin/chromium",
    debPackage: "chromium",
    usedBy: ["test/dashboard-browser.test.ts", "bench/dashboard.bench.ts"],
  },
  shellcheck: {
    name: "shellcheck",
    path: "/usr/bin/shellcheck",
    debPackage: "shellcheck",
    usedBy: ["test/kit-files.test.ts"],
  },
  systemdAnalyze: {
    name: "systemd-analyze",
    path: "/usr/bin/systemd-analyze",
    debPackage: "systemd",
    usedBy: ["test/kit-files.test.ts"],
  },
  // Essential on every Debian system, listed so that a minimal image without them is told so too.
  bash: { name: "bash", path: "/bin/bash", debPackage: "bash", usedBy: ["test/kit-files.test.ts", "test/tunnel-supervise.test.ts"] },
  tar: {
    name: "GNU tar",
    path: "/bin/tar",
    debPackage: "tar",
    usedBy: ["test/kit-files.test.ts", "test/kit-pm2.test.ts", "test/kit-lean-install.test.ts"],
  },
} as const satisfies Record<string, TestTool>;
