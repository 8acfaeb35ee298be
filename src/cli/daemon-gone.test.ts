// "Not answering" for a daemon whose process is gone says so, naming its data directory and pid and
// how to start it again; a daemon.json naming a live process or another URL keeps the plain words.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
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

const statusError = async (daemonJson: { url: string; pid: number }) => {
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
    expect(e?.hint).toContain(`\`cbo daemon --data ${dir}\``);
    expect(e?.hint).toContain("`cbo status` and `cbo events` then say which");
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
