// A command run while `cbo up` starts the daemon of its data directory: "still starting, wait",
// not "not answering; start it". The marker is this test process's own (a live pid), or a child's
// that has exited (a `cbo up` killed while starting).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { isCboError } from "../kit/errors.ts";
import { connect } from "./connect.ts";
import { discoverUrl } from "./discover.ts";
import { liveDaemon } from "./live-daemon.ts";
import { markStarting, upStarting } from "./starting.ts";

const dirs: string[] = [];
const tempData = () => {
  const d = mkdtempSync(join(tmpdir(), "cbo-starting-"));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A daemon.json left by the previous run: nothing listens on port 1. */
const staleDaemonFile = (data: string) => writeFileSync(join(data, "daemon.json"), JSON.stringify({ url: "http://127.0.0.1:1", pid: 1 }));

async function errorOf(fn: () => unknown): Promise<{ code: string; message: string; hint: string | undefined }> {
  try {
    await fn();
  } catch (e) {
    if (!isCboError(e)) throw e;
    return { code: e.code, message: e.message, hint: e.hint };
  }
  throw new Error("expected an error");
}

describe("cbo up still starting", () => {
  it("no daemon.json yet: the command says the daemon is starting and to wait", async () => {
    const data = tempData();
    markStarting(data);
    const e = await errorOf(() => discoverUrl({ data }));
    expect(e.message).toBe(`The daemon of ${data} is still starting (\`cbo up\`, pid ${process.pid}, for 0 s so far).`);
    expect(e.hint).toMatch(/^wait until `cbo up` prints its summary/);
    // Commands that work on the files when no daemon runs must not race it either.
    expect((await errorOf(() => liveDaemon({ data }, {}))).message).toContain("still starting");
  });

  it("an old daemon.json whose API does not answer yet: starting, not 'not answering; start it'", async () => {
    const data = tempData();
    staleDaemonFile(data);
    markStarting(data);
    const e = await errorOf(() => connect({ data, token: undefined }).status());
    expect([e.code, e.message]).toEqual(["ERR_IO", expect.stringContaining("is still starting")]);
    expect((await errorOf(() => liveDaemon({ data }, {}))).message).toContain("still starting");
  });

  it("once started (the marker taken back) or when its `cbo up` is gone, the usual words", async () => {
    const data = tempData();
    staleDaemonFile(data);
    const done = markStarting(data);
    done();
    expect(existsSync(join(data, "starting.json"))).toBe(false);
    expect((await errorOf(() => connect({ data }).status())).message).toBe("The daemon at http://127.0.0.1:1 is not answering.");
    // A `cbo up` killed while starting left its marker: its pid is gone.
    const gone = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
    writeFileSync(join(data, "starting.json"), JSON.stringify({ pid: Number(gone.stdout), startedAt: new Date().toISOString() }));
    expect(upStarting(data)).toBeUndefined();
    expect((await errorOf(() => connect({ data }).status())).message).toBe("The daemon at http://127.0.0.1:1 is not answering.");
    rmSync(join(data, "daemon.json"));
    expect((await errorOf(() => discoverUrl({ data }))).message).toMatch(/^No daemon found/);
  });
});
