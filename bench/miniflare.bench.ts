// Bare Miniflare alone: the baseline the local edge is compared with, and a self-check of the
// harness that needs nothing from src/.
import { startBareMiniflare } from "./bare-miniflare.ts";
import { measureLoad } from "./load.ts";
import { info, type Benchmark } from "./types.ts";

export const benchmarks: Benchmark[] = [
  {
    name: "miniflare.bare_rps",
    async run(ctx) {
      const started = performance.now();
      const mf = await startBareMiniflare();
      const startupMs = performance.now() - started;
      try {
        ctx.log(`bare Miniflare at ${mf.url} (started in ${startupMs.toFixed(0)} ms)`);
        const { rps, ...load } = await measureLoad({ url: mf.url, expectBody: "ok" });
        return [info("miniflare.bare_rps", rps, "req/s", load), info("miniflare.bare_startup_ms", startupMs, "ms")];
      } finally {
        await mf.close();
      }
    },
  },
];
