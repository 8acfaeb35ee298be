import { defineConfig } from "vitest/config";

// Integration tests start real workerd processes and real wrangler; they run in forks so that a
// crash stays in its file, with long timeouts for process start-up on 2 cores.
export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ["default", "./test/support/summary-reporter.ts"],
  },
});
