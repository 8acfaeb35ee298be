// `cloudflare:*` modules are provided by workerd: left as imports (wrangler's cloudflare-internal plugin).
import type { Plugin } from "esbuild";

export const cloudflareInternalPlugin: Plugin = {
  name: "cloudflare-internal-imports",
  setup(build) {
    build.onResolve({ filter: /^cloudflare:.*/ }, () => ({ external: true }));
  },
};
