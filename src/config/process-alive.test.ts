// A pid named in a file is alive while its process runs; killed, it is gone even before its parent
// reaps it (a zombie still answers signal 0, which made a daemon killed with -9 look alive).
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { processAlive } from "./process-alive.ts";

describe("processAlive", () => {
  it("a running process is alive; killed and not yet reaped (a zombie) it is not", async () => {
    // bash starts a sleep in the background and becomes another sleep, which never reaps it.
    const parent = spawn("bash", ["-c", "sleep 60 & echo $!; exec sleep 60"], { stdio: ["ignore", "pipe", "ignore"] });
    try {
      const pid = Number(await new Promise<string>((r) => parent.stdout.once("data", (b: Buffer) => r(String(b).trim()))));
      expect(processAlive(pid)).toBe(true);
      // Until bash has become sleep it still reaps its children itself (CI once saw the killed sleep
      // reaped at once, /proc/<pid> gone): kill only after the exec.
      while (readFileSync(`/proc/${parent.pid}/comm`, "utf8").trim() !== "sleep") await new Promise((r) => setTimeout(r, 5));
      process.kill(pid, "SIGKILL");
      const state = () => readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /s, "")[0];
      while (state() !== "Z") await new Promise((r) => setTimeout(r, 10));
      expect(processAlive(pid)).toBe(false);
      expect(processAlive(process.pid)).toBe(true);
    } finally {
      parent.kill("SIGKILL");
    }
  });
});
