#!/usr/bin/env node
// Entry for the `cbo` / `clawdbot-orchestrator` commands. Node >= 24 runs src/ directly
// (type stripping), so there is no build step; this file only checks the runtime first.
const major = Number(process.versions.node.split(".")[0]);
if (major < 24) {
  process.stderr.write(
    `error ERR_NODE_VERSION: Clawdbot Orchestrator needs Node.js 24 or newer (this is ${process.versions.node}).\n` +
      "hint: run it through npm (`npm start`), which uses the Node 24 that `npm install` fetched, or install Node 24 LTS.\n",
  );
  process.exit(2);
}
// Node's compile cache keeps the stripped TypeScript and V8's code cache between runs (in
// NODE_COMPILE_CACHE, else <tmpdir>/node-compile-cache): later starts neither load the type stripper
// nor compile every module again, which saves the daemon about 25 MiB and cuts start-up time.
// It is an optimisation only: when the directory cannot be used, Node carries on without it.
const { enableCompileCache } = await import("node:module");
enableCompileCache?.();
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
// A command that is done lets the process end on its own (stdout drains first). Under PM2 (or any
// parent that forks with an IPC channel) that channel alone would keep it running: a daemon that
// failed to start would sit "online" forever instead of exiting for its restart.
if (process.connected && typeof process.disconnect === "function") process.disconnect();
