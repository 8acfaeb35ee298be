// "Not answering" for a daemon whose process is gone says so, naming its data directory and pid and
// how to start it again; a daemon.json naming a live process or another URL keeps the plain words.
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CboError } from "../kit/errors.ts";
import { cliClient } from "./connect.ts";

let dir: string;
let url: string;
/** A pid no process has now: a child that has exited. */
const gonePid = () => spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "cbo-gone-"));
  // A port nothing listens on: bound and released.
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  url = `http://127.0.0.1:${(s.address() as { port: number }).port}`;
  await new Promise<void>((r) => s.close(() => r()));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const statusError = async (daemonJson: { url: string; pid: number; config?: string }) => {
  writeFileSync(join(dir, "daemon.json"), JSON.stringify(daemonJson));
  return cliClient({ url, token: "t", dataDir: dir })
    .status()
    .then(
      () => undefined,
      (e: CboError) => e,
    );
};

describe("a daemon that is no longer running", () => {
  it("is named as gone, with its pid and how to start it again on its directory", async () => {
    const pid = Number(gonePid());
    const e = await statusError({ url, pid });
    expect(e?.code).toBe("ERR_IO");
    expect(e?.message).toBe(
      `The daemon at ${url} is not answering: the daemon that last ran on ${dir} (pid ${pid}) is no longer running (stopped, killed or crashed).`,
    );
    // Not the default port: said, or the command would start it on 8700.
    const port = new URL(url).port;
    expect(e?.hint).toContain(`\`cbo daemon --data ${dir} --port ${port}\``);
    expect(e?.hint).toContain("`cbo status` and `cbo events` then say which");
  });

  it("started again as it ran: the spec daemon.json names and the ports it and its edge listened on", async () => {
    const pid = Number(gonePid());
    mkdirSync(join(dir, "edge"), { recursive: true });
    writeFileSync(join(dir, "edge", "edge.json"), JSON.stringify({ apiUrl: "http://127.0.0.1:18790/client/v4" }));
    try {
      // Without --config, `cbo up` run from elsewhere would read ./orchestrator.yaml or the bundled example fleet.
      const e = await statusError({ url, pid, config: "/srv/fleet/orchestrator.yaml" });
      const port = new URL(url).port;
      expect(e?.hint).toContain(
        `\`cbo daemon --data ${dir} --config /srv/fleet/orchestrator.yaml --port ${port}\` beside its \`cbo edge\``,
      );
      expect(e?.hint).toContain(`\`cbo up --data ${dir} --config /srv/fleet/orchestrator.yaml --port ${port} --edge-port 18790\``);
    } finally {
      rmSync(join(dir, "edge"), { recursive: true, force: true });
    }
  });

  it("killed but not yet reaped by its parent (a zombie, as just after kill -9): gone, not the plain 'not answering'", async () => {
    // bash starts a sleep in the background and becomes another sleep, which never reaps it.
    const parent = spawn("bash", ["-c", "sleep 60 & echo $!; exec sleep 60"], { stdio: ["ignore", "pipe", "ignore"] });
    try {
      const pid = Number(await new Promise<string>((r) => parent.stdout.once("data", (b: Buffer) => r(String(b).trim()))));
      // Until bash has become sleep it still reaps its children itself (CI once saw the killed sleep
      // reaped at once, /proc/<pid> gone): kill only after the exec.
      while (readFileSync(`/proc/${parent.pid}/comm`, "utf8").trim() !== "sleep") await new Promise((r) => setTimeout(r, 5));
      process.kill(pid, "SIGKILL");
      const state = () => readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /s, "")[0];
      while (state() !== "Z") await new Promise((r) => setTimeout(r, 10));
      // Signal 0 still reaches it: what made it look alive.
      expect(() => process.kill(pid, 0)).not.toThrow();
      const e = await statusError({ url, pid });
      expect(e?.message).toBe(
        `The daemon at ${url} is not answering: the daemon that last ran on ${dir} (pid ${pid}) is no longer running (stopped, killed or crashed).`,
      );
    } finally {
      parent.kill("SIGKILL");
    }
  });

  it("a live pid, or daemon.json naming another URL: the plain 'not answering'", async () => {
    for (const daemonJson of [
      { url, pid: process.pid },
      { url: "http://127.0.0.1:9", pid: Number(gonePid()) },
    ]) {
      const e = await statusError(daemonJson);
      expect(e?.message).toBe(`The daemon at ${url} is not answering.`);
    }
  });
});
