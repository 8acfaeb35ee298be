#!/usr/bin/env node
// Entry for the `cbo` / `clawdbot-orchestrator` commands. Node >= 24 runs src/ directly
// (type stripping), so there is no build step; this file only checks the runtime first.
const major = Number(process.versions.node.split(".")[0]);
// `npm link` (or a global install) puts `cbo` on PATH, where `#!/usr/bin/env node` finds the
// system's Node, which may be older. Then the Node 24 that `npm install` fetched (the `node` dev
// dependency, what `npm start` runs on) runs this command instead: same arguments, terminal and
// exit code. A production install has no such Node (--omit=dev) and says what to install.
if (major < 24 && !process.env.CBO_NODE_REEXEC) {
  const { existsSync } = await import("node:fs");
  const { fileURLToPath } = await import("node:url");
  const own = fileURLToPath(new URL("../node_modules/node/bin/node", import.meta.url));
  if (existsSync(own)) {
    const { spawn } = await import("node:child_process");
    const child = spawn(own, [...process.execArgv, process.argv[1], ...process.argv.slice(2)], {
      stdio: "inherit",
      env: { ...process.env, CBO_NODE_REEXEC: "1" },
    });
    // Ctrl-C reaches the child from the terminal itself; a signal sent to this process alone is
    // passed on. Either way this process waits for the child and ends as it ended.
    for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(sig, () => sig !== "SIGINT" && child.kill(sig));
    const [code, signal] = await new Promise((resolve) => child.on("exit", (c, s) => resolve([c, s])));
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    }
    process.exit(code ?? 1);
  }
}
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
