// Once per vitest run, before any worker starts: the Node children the tests spawn (wrangler, the
// `cbo` binary, daemon children) share a V8 compile cache, so that each of the thousands of
// start-ups does not compile wrangler's and the CLI's code again (a third of a wrangler start-up).
// The cache is keyed by file content and Node version: a stale entry is never used.
import { fileURLToPath } from "node:url";

export default function setup(): void {
  process.env["NODE_COMPILE_CACHE"] ??= fileURLToPath(new URL("../../node_modules/.cache/node-compile-cache", import.meta.url));
}
