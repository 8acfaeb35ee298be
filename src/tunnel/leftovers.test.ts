// Working copies of the tunnel's files (`<file>.tmp-<pid>`) left by a daemon killed mid-write
// (kill -9: its pid gone) are removed when the next daemon starts, and before each write; the
// token's copy holds the connector token. A live process's copy is left alone.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../telemetry/index.ts";
import { tunnelFiles, writePrivate } from "./files.ts";
import { createTunnelManager } from "./manager.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A pid that was real and is gone, as after kill -9. */
const gonePid = () => Number(spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout);

function plant() {
  const dataDir = mkdtempSync(join(tmpdir(), "cbo-tunnel-left-"));
  dirs.push(dataDir);
  const files = tunnelFiles(dataDir);
  mkdirSync(files.dir, { recursive: true, mode: 0o700 });
  const gone = gonePid();
  for (const f of [files.token, files.config, files.record]) writeFileSync(`${f}.tmp-${gone}`, "left over");
  writeFileSync(`${files.config}.tmp-${process.ppid}`, "a live writer's");
  return { dataDir, files, listing: () => readdirSync(files.dir).sort() };
}

describe("tunnel: leftover working copies", () => {
  it("go when the next daemon starts", () => {
    const { dataDir, listing } = plant();
    createTunnelManager({ dataDir, accounts: () => [], log: silentLogger, env: { PATH: "" } });
    expect(listing()).toEqual([`cloudflared.yml.tmp-${process.ppid}`]);
  });

  it("go before a write of the same file", () => {
    const { files, listing } = plant();
    writePrivate(files.token, "tok", files.dir);
    expect(listing()).toContain("token");
    expect(listing().filter((n) => n.startsWith("token."))).toEqual([]);
  });
});
