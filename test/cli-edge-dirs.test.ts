// `--data` means the data directory on `cbo edge fault` too: the real binary injects a fault into a
// real local edge kept where `cbo up --data DIR` keeps it (DIR/edge), named by --data DIR or by
// --edge DIR/edge; the old meaning (--data naming the edge's own directory) still works, with a
// warning. The fault is read back from the edge's admin API.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";
import { runCbo } from "./support/run-cbo.ts";
import { openEdgeDb } from "../src/local-edge/state/db.ts";

describe("which directory cbo edge fault talks to", () => {
  let dir: string;
  let t: TestEdge;
  const data = () => join(dir, "data");
  const fault = async () => {
    const res = await fetch(`${t.edge.adminUrl}/faults/eu`, { headers: { authorization: `Bearer ${t.edge.token}` } });
    const f = ((await res.json()) as { fault?: Record<string, unknown> }).fault;
    // No fault: none, or an empty one.
    return f && Object.keys(f).length > 0 ? f : null;
  };

  beforeAll(async () => {
    dir = await makeTempDir("edge-dirs");
    // The layout of `cbo up --data DIR`: the edge's state in DIR/edge.
    t = await startTestEdge({ regions: ["eu"], dataDir: join(dir, "data", "edge") });
  });
  afterAll(async () => {
    await t?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("--data DIR: the data directory, whose edge is DIR/edge (no warning)", async () => {
    const r = await runCbo(["edge", "fault", "eu", "latency", "250", "--data", data()], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    expect(await fault()).toMatchObject({ latencyMs: 250 });
  });

  it("--edge DIR/edge: the edge's own directory (no warning)", async () => {
    const r = await runCbo(["edge", "fault", "eu", "clear", "--edge", join(data(), "edge")], { cwd: dir });
    expect([r.code, r.stderr]).toEqual([0, ""]);
    expect(await fault()).toBeNull();
  });

  it("--data naming the edge's own directory still works, with a warning that says --edge", async () => {
    const r = await runCbo(["edge", "fault", "eu", "outage", "--data", join(data(), "edge")], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe(
      `cbo: warning: ${join(data(), "edge")} is an edge's own directory: say --edge ${join(data(), "edge")} (--data DIR names the data directory, whose edge is DIR/edge)\n`,
    );
    expect(await fault()).toMatchObject({ outage: true });
    await runCbo(["edge", "fault", "eu", "clear", "--data", data()], { cwd: dir });
    expect(await fault()).toBeNull();
  });

  it("a directory with no edge says which flags name one", async () => {
    const r = await runCbo(["edge", "fault", "eu", "outage", "--data", join(dir, "nothing")], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error ERR_NOT_FOUND: No local edge found in ${join(dir, "nothing", "edge")}.`);
    expect(r.stderr).toMatch(/hint: .*--edge DIR/);
  });

  // The running edge's edge.json damaged under it: a second edge on its directory is still refused,
  // found by the processes in workerd.pids (this test process, whose workerd serve the edge), named
  // by its pid with how to stop it, and nothing of the directory is touched.
  it("cbo edge on the directory of a running edge whose edge.json is damaged: refused, naming its pid", async () => {
    const edgeDir = join(data(), "edge");
    const file = join(edgeDir, "edge.json");
    const whole = readFileSync(file, "utf8");
    const pids = readFileSync(join(edgeDir, "workerd.pids"), "utf8");
    writeFileSync(file, whole.slice(0, 30));
    try {
      const r = await runCbo(["edge", "--edge", edgeDir, "--port", "0", "--regions", "eu"], { cwd: dir });
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stderr.split("\n")[0]).toBe(
        `error ERR_CONFLICT: A local edge already runs on ${edgeDir} (pid ${process.pid}), though its ${file} is damaged or missing.`,
      );
      expect(r.stderr).toContain(`hint: stop it first (Ctrl-C where it runs, or kill ${process.pid})`);
      expect([readFileSync(file, "utf8"), readFileSync(join(edgeDir, "workerd.pids"), "utf8")]).toEqual([whole.slice(0, 30), pids]);
    } finally {
      writeFileSync(file, whole);
    }
    // The edge still serves.
    expect(await fault()).toBeNull();
  });

  // A file of the edge's directory cut off (a kill -9 or a full disk as it was written) or emptied:
  // named as damaged, not "no edge found", with what to do, and never taken (an empty token would
  // let an empty X-Auth-Key header into the edge's API).
  describe("a damaged edge.json or token", () => {
    const edgeJson = JSON.stringify({
      apiUrl: "http://127.0.0.1:9/client/v4",
      adminUrl: "http://127.0.0.1:9/__edge",
      pid: 999_999_999,
      regions: [{ name: "eu", accountId: "a".repeat(32), port: 10, publicUrl: "http://localhost:10/" }],
    });
    const damagedDir = (name: string, files: { "edge.json"?: string; token?: string }) => {
      const d = join(dir, name);
      mkdirSync(d, { recursive: true, mode: 0o700 });
      for (const [f, text] of Object.entries(files)) writeFileSync(join(d, f), text, { mode: 0o600 });
      return d;
    };
    const oneError = (r: { code: number | null; stdout: string; stderr: string }) => {
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      return r.stderr.split("\n")[0];
    };

    it("cbo daemon --edge DIR with edge.json cut off: the file named, how to rewrite it", async () => {
      const d = damagedDir("cut-json", { "edge.json": edgeJson.slice(0, 40), token: `cbo_edge_${"0".repeat(40)}\n` });
      const r = await runCbo(["daemon", "--edge", d, "--data", join(dir, "cut-json-data"), "--port", "0"], { cwd: dir });
      expect(oneError(r)).toBe(`error ERR_VALIDATION: The local edge's file ${join(d, "edge.json")} is damaged (not JSON).`);
      expect(r.stderr).toContain(`hint: restart the edge on ${d} (stop it if it still runs, then \`npx cbo edge --edge ${d}\``);
      expect(existsSync(join(dir, "cut-json-data"))).toBe(false);
    });

    it("cbo daemon --edge DIR and cbo edge fault with an empty token: refused, the file named", async () => {
      const d = damagedDir("empty-token", { "edge.json": edgeJson, token: "" });
      const want = `error ERR_VALIDATION: The local edge's file ${join(d, "token")} is damaged (empty).`;
      const daemon = await runCbo(["daemon", "--edge", d, "--data", join(dir, "empty-token-data"), "--port", "0"], { cwd: dir });
      expect(oneError(daemon)).toBe(want);
      expect(daemon.stderr).toMatch(/hint: stop the edge, remove .*token and start the edge again \(it writes a new token\)/);
      const fault = await runCbo(["edge", "fault", "eu", "outage", "--edge", d], { cwd: dir });
      expect(oneError(fault)).toBe(want);
    });

    for (const [what, text, why] of [
      ["empty", "\n", "empty"],
      ["cut off", "cbo_edge_3f\n", "11 characters; the edge's token has at least 16"],
    ] as const)
      it(`cbo edge on a directory whose token is ${what} refuses to start, before it opens or writes anything`, async () => {
        const d = damagedDir(`edge-token-${what.replace(" ", "-")}`, { token: text });
        const r = await runCbo(["edge", "--edge", d, "--port", "0", "--regions", "eu"], { cwd: dir });
        expect(oneError(r)).toBe(`error ERR_VALIDATION: The local edge's file ${join(d, "token")} is damaged (${why}).`);
        expect(readdirSync(d).sort()).toEqual(["token", "workerd"]);
        expect(readFileSync(join(d, "token"), "utf8")).toBe(text);
      });

    // edge.sqlite cut off (a disk fault) or emptied: refused with the file named and left as it
    // was, never a new empty edge over the old one's directory. The cut-off one is a real edge
    // state file (the edge's own schema) cut to its first pages.
    const goodToken = `cbo_edge_${"0".repeat(40)}\n`;
    const cutOff = () => {
      const scratch = join(dir, "whole-edge-db");
      openEdgeDb(scratch).close();
      return readFileSync(join(scratch, "edge.sqlite")).subarray(0, 8192);
    };
    for (const [what, bytes, code, says] of [
      ["cut off", cutOff, "ERR_STORE_CORRUPT", /is damaged \(database disk image is malformed\); nothing was changed\.$/],
      [
        "empty",
        () => Buffer.alloc(0),
        "ERR_STORE_LOST",
        /is empty, but .* has held a running edge \(edge\.json\).*so the edge refuses to start\.$/,
      ],
    ] as const)
      it(`cbo edge on a directory whose edge.sqlite is ${what}: ${code}, the file left as it was`, async () => {
        const d = damagedDir(`edge-db-${what.replace(" ", "-")}`, { "edge.json": edgeJson, token: goodToken });
        const content = bytes();
        writeFileSync(join(d, "edge.sqlite"), content, { mode: 0o600 });
        const r = await runCbo(["edge", "--edge", d, "--port", "0", "--regions", "eu"], { cwd: dir });
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr).not.toMatch(/\n\s+at /);
        const first = r.stderr.split("\n")[0]!;
        expect(first.startsWith(`error ${code}: The local edge's state ${join(d, "edge.sqlite")} `), first).toBe(true);
        expect(first).toMatch(says);
        expect(r.stderr).toMatch(/\nhint: Put back a copy of /);
        expect(readFileSync(join(d, "edge.sqlite")).equals(content)).toBe(true);
      });
  });

  it("cbo daemon on a local target with no edge running says how to run one, and leaves no data directory", async () => {
    writeFileSync(join(dir, "local.yaml"), "version: 1\ntargets:\n  - { name: eu, api: local }\n");
    const fresh = join(dir, "daemon-data");
    const r = await runCbo(["daemon", "--data", fresh, "--config", "local.yaml", "--port", "0"], { cwd: dir });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('error ERR_VALIDATION: Target "eu" uses the local edge (api: local), but none is running.');
    expect(r.stderr).toContain(
      "run the local edge apart with `npx cbo edge` and give the daemon its directory (`npx cbo daemon --edge DIR`",
    );
    expect(existsSync(fresh)).toBe(false);
  });
});
