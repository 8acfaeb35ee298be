import { defineConfig } from "vitest/config";

// Integration tests start real workerd processes and real wrangler; they run in forks so that a
// crash stays in its file, with long timeouts for process start-up on 2 cores. The unit tests
// beside the source are pure (no processes, no globals left behind), so they share their forks
// instead of paying a fresh process and module load per file (most of their time).
export default defineConfig({
  test: {
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ["default", "./test/support/summary-reporter.ts"],
    globalSetup: ["./test/support/global-setup.ts"],
    projects: [
      { extends: true, test: { name: "unit", include: ["src/**/*.test.ts"], isolate: false } },
      { extends: true, test: { name: "integration", include: ["test/**/*.test.ts"] } },
    ],
  },
});
