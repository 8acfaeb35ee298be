// Issue 11, item 2: the local edge's state (per-Worker keys, binding secrets, its API token) and
// the daemon's data directory are their owner's only: directories 0700, files 0600, SQLite's
// -wal and -shm included; and a directory or file an older version left wider is tightened when
// it is opened again. Real SQLite files, a real local edge (workerd) and a real daemon, under the
// usual umask 022.
import { chmodSync, existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDaemon } from "../src/daemon.ts";
import { startLocalEdge } from "../src/local-edge/index.ts";
import { api, putScript } from "./support/api.ts";
import { makeTempDir } from "./support/edge.ts";
import { workerSource } from "./support/worker-source.ts";
import { writeFile } from "node:fs/promises";

const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);
/** Every directory and file under `root` (itself included) with its mode, as `path: mode`. */
function modes(root: string): Record<string, string> {
  const out: Record<string, string> = { ".": mode(root) };
  for (const f of readdirSync(root, { recursive: true }).map(String)) out[f] = mode(join(root, f));
  return out;
}
const expectPrivate = (root: string, skip: (f: string) => boolean = () => false) => {
  const all = modes(root);
  const wrong = Object.entries(all).filter(([f, m]) => !skip(f) && m !== (statSync(join(root, f)).isDirectory() ? "700" : "600"));
  expect(wrong, JSON.stringify(all)).toEqual([]);
  return all;
};

describe("private files", () => {
  let saved: number;
  beforeAll(() => {
    saved = process.umask(0o022);
  });
  afterAll(() => {
    process.umask(saved);
  });

  it("the local edge: its directory 0700, edge.sqlite with -wal/-shm, token and edge.json 0600; wider ones tightened on start", async () => {
    const dir = join(await makeTempDir("private-edge"), "edge");
    const edge = await startLocalEdge({ dataDir: dir, regions: ["eu"] });
    const acct = edge.regions[0]!.accountId;
    // A binding secret written through the API: it now rests in edge.sqlite (and its WAL).
    await putScript(edge, acct, "keeper", {
      code: workerSource("k"),
      bindings: [{ type: "secret_text", name: "S", text: "pl4nted-binding" }],
    });
    const seen = expectPrivate(dir);
    expect(Object.keys(seen)).toEqual(expect.arrayContaining(["edge.sqlite", "edge.sqlite-wal", "edge.sqlite-shm", "token", "edge.json"]));
    await edge.close();

    // As an older version left them: world-readable. Opening the edge again closes them.
    chmodSync(dir, 0o755);
    for (const f of readdirSync(dir)) chmodSync(join(dir, f), 0o644);
    const again = await startLocalEdge({ dataDir: dir, regions: ["eu"] });
    try {
      expect((await api(again, "GET", `/accounts/${acct}/workers/scripts`)).status).toBe(200);
      expectPrivate(dir);
      expect(existsSync(join(dir, "edge.sqlite-wal"))).toBe(true);
    } finally {
      await again.close();
    }
  }, 60_000);

  it("the daemon's data directory (with cbo up's layout, the edge inside it): every directory 0700, every file 0600", async () => {
    const dir = await makeTempDir("private-daemon");
    const data = join(dir, "data");
    await writeFile(
      join(dir, "orchestrator.yaml"),
      "version: 1\ntargets:\n  - { name: eu, api: local }\nrollout:\n  steps: [100]\n  gate: { probe_path: /, interval_ms: 20, bake_ms: 60, min_samples: 2 }\nworkers:\n  - { name: tiny, main: tiny.js }\n",
    );
    await writeFile(join(dir, "tiny.js"), workerSource("tiny"));
    const edge = await startLocalEdge({ dataDir: join(data, "edge"), regions: ["eu"] });
    const d = await startDaemon({
      dataDir: data,
      configFile: join(dir, "orchestrator.yaml"),
      edge,
      env: {},
      port: 0,
      monitorIntervalMs: 60_000,
      fallbackMasterKeyFile: join(data, "master.key"),
      log: () => {},
    });
    try {
      const r = await d.engine.release("tiny");
      expect((await d.engine.wait(r.id)).status).toBe("succeeded");
      const seen = expectPrivate(data);
      expect(Object.keys(seen)).toEqual(
        expect.arrayContaining([
          "orchestrator.sqlite",
          "orchestrator.sqlite-wal",
          "master.key",
          "admin-token",
          "daemon.json",
          "orchestrator-key.json",
          "edge",
          "edge/edge.sqlite",
          "edge/token",
        ]),
      );
    } finally {
      await d.close();
      await edge.close();
    }
    // The daemon signs a checkpoint as it stops and appends it to the checkpoint file, which a
    // first start creates: 0600 from the start, not only once a restart has tightened it.
    expect(mode(join(data, "audit-checkpoints.jsonl"))).toBe("600");
    // An older, wider data directory is tightened on the next start.
    chmodSync(data, 0o755);
    chmodSync(join(data, "daemon.json"), 0o644);
    const logs: string[] = [];
    const edge2 = await startLocalEdge({ dataDir: join(data, "edge"), regions: ["eu"] });
    const d2 = await startDaemon({
      dataDir: data,
      configFile: join(dir, "orchestrator.yaml"),
      edge: edge2,
      env: {},
      port: 0,
      monitorIntervalMs: 60_000,
      fallbackMasterKeyFile: join(data, "master.key"),
      log: (l) => logs.push(l),
    });
    try {
      expect(mode(data)).toBe("700");
      expect(mode(join(data, "daemon.json"))).toBe("600");
      expect(logs.join("\n")).toContain("was open to other users; it is 0700 now");
    } finally {
      await d2.close();
      await edge2.close();
    }
  }, 90_000);
});
