// A busy port, as the real `cbo` binary meets it: `cbo daemon`, `cbo up` and `cbo init` name the
// port and the flag that moves it, exit 2 (a system error), and leave the data directory exactly as
// it was: not created when it did not exist, nothing added (no master key, no database, no edge
// state) when it did. The port is held by a plain TCP server in this process.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { createServer, type AddressInfo, type Server } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempDir } from "./support/edge.ts";
import { runCbo } from "./support/run-cbo.ts";

describe("a busy port", () => {
  let dir: string;
  let holder: Server;
  let busy: number;
  const cbo = (args: string[]) => runCbo(args, { cwd: dir, timeoutMs: 60_000 });

  beforeAll(async () => {
    dir = await makeTempDir("busy-port");
    writeFileSync(join(dir, "orchestrator.yaml"), "version: 1\ntargets:\n  - { name: eu, api: local }\n");
    holder = createServer();
    await new Promise<void>((r) => holder.listen(0, "127.0.0.1", r));
    busy = (holder.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise<void>((r) => holder?.close(() => r()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const expectBusy = (r: { code: number | null; stderr: string }, flag: string) => {
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`error ERR_IO: Port ${busy} on 127.0.0.1 is already in use:`);
    expect(r.stderr).toContain(
      `hint: pass ${flag} N for another port (${flag} 0 takes a free one), or stop the process that holds ${busy}`,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  };

  it("cbo daemon: names the port and --port, and creates no data directory", async () => {
    const data = join(dir, "daemon-data");
    const r = await cbo(["daemon", "--data", data, "--config", "orchestrator.yaml", "--port", String(busy)]);
    expectBusy(r, "--port");
    expect(existsSync(data)).toBe(false);
  });

  it("cbo up: the daemon's port or the edge's, before anything is written; an existing directory keeps its files", async () => {
    const fresh = join(dir, "up-fresh");
    expectBusy(await cbo(["up", "--data", fresh, "--config", "orchestrator.yaml", "--port", String(busy), "--edge-port", "0"]), "--port");
    expect(existsSync(fresh)).toBe(false);
    // A directory that exists, with the operator's own file in it: nothing added (no master.key, no edge/).
    const existing = join(dir, "up-existing");
    mkdirSync(existing);
    writeFileSync(join(existing, "notes.txt"), "mine\n");
    expectBusy(
      await cbo(["up", "--data", existing, "--config", "orchestrator.yaml", "--port", "0", "--edge-port", String(busy)]),
      "--edge-port",
    );
    expect(readdirSync(existing)).toEqual(["notes.txt"]);
  });

  it("cbo init: the check comes before its first step (the master key)", async () => {
    const data = join(dir, "init-data");
    const r = await cbo(["init", "--local", "--yes", "--data", data, "--config", "init.yaml", "--port", String(busy), "--edge-port", "0"]);
    expectBusy(r, "--port");
    expect(existsSync(data)).toBe(false);
    expect(existsSync(join(dir, "init.yaml"))).toBe(false);
  });
});
