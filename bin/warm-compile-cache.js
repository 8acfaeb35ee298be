#!/usr/bin/env node
// Fills Node's compile cache (NODE_COMPILE_CACHE) with the daemon's modules, their TypeScript
// stripped and their code compiled, without starting anything: the kit's Dockerfile runs it at build
// time, with the entrypoint's Node flags (the cache is kept per Node version and flags), so that a
// new container starts as warm as a restarted one. A cold start loads Node's type stripper and
// compiles ~560 modules: slower, and about 20 MiB more idle RSS for the life of the process
// (`npm run bench -- --only release.daemon_idle_rss`: the cold-cache figure against default flags).
const major = Number(process.versions.node.split(".")[0]);
if (major < 24) {
  process.stderr.write(`error ERR_NODE_VERSION: needs Node.js 24 or newer (this is ${process.versions.node}).\n`);
  process.exit(2);
}
const { enableCompileCache, flushCompileCache } = await import("node:module");
const result = enableCompileCache?.();
// Importing runs no daemon: each module only defines what the daemon calls later.
await import("../src/cli/main.ts");
await import("../src/cli/launchers/daemon-command.ts");
flushCompileCache?.();
process.stdout.write(`${JSON.stringify({ compileCache: result?.directory ?? null })}\n`);
