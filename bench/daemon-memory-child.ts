// Child process of bench/daemon.bench.ts: `cbo up` (the local edge, the daemon, the example fleet
// released) in a process of its own, started with --expose-gc, answering memory questions over IPC:
//   parent -> {mem: true}        child -> {mem: process.memoryUsage() after a full GC}
//   parent -> {snapshot: file}   child -> {snapshot: file} (a V8 heap snapshot written there)
// Its stdout is cbo up's (--json: one line with apiUrl and adminTokenFile).
import { writeHeapSnapshot } from "node:v8";
import { upCommand } from "../src/cli/launchers/up-command.ts";

const gc = (globalThis as { gc?: (o?: { type: "major"; execution: "sync" }) => void }).gc;
if (!gc) throw new Error("run with --expose-gc");

process.on("message", (m: { mem?: boolean; snapshot?: string }) => {
  if (m.mem) {
    gc!();
    gc!();
    process.send!({ mem: process.memoryUsage() });
  } else if (m.snapshot) {
    gc!();
    process.send!({ snapshot: writeHeapSnapshot(m.snapshot) });
  }
});

process.exitCode = await upCommand(process.argv.slice(2));
// The IPC channel would keep the process alive after cbo up has shut down.
process.disconnect?.();
