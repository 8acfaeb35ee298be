// Starts a real local edge (workerd through Miniflare) in a fresh temporary data directory, and
// removes the directory again when the test file is done.
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { startLocalEdge } from "../../src/local-edge/index.ts";
import type { LocalEdge, RegionInfo } from "../../src/local-edge/types.ts";

export type TestEdge = {
  edge: LocalEdge;
  dataDir: string;
  /** The first region: tests that need one region use this one. */
  region: RegionInfo;
  /** The edge's lines (its own and the Workers' console output), kept here rather than printed. */
  lines: string[];
  /** Closes the edge (if still open) and deletes its data directory. */
  dispose(): Promise<void>;
};

export async function makeTempDir(prefix: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), `cbo-${prefix}-`));
}

export async function startTestEdge(opts: { regions?: string[]; dataDir?: string } = {}): Promise<TestEdge> {
  const dataDir = opts.dataDir ?? (await makeTempDir("edge"));
  // Workers under test log planted secrets on purpose: their lines stay in memory (the test output
  // must hold no secret), printed only with CBO_TEST_EDGE_LOG=1 for debugging.
  const lines: string[] = [];
  const log = (line: string) => {
    if (lines.length < 10_000) lines.push(line);
    if (process.env.CBO_TEST_EDGE_LOG === "1") process.stderr.write(line.endsWith("\n") ? line : `${line}\n`);
  };
  const edge = await startLocalEdge({ dataDir, regions: opts.regions ?? ["eu"], log });
  let closed = false;
  const close = edge.close.bind(edge);
  edge.close = async () => {
    if (closed) return;
    closed = true;
    await close();
  };
  return {
    edge,
    dataDir,
    region: edge.regions[0]!,
    lines,
    async dispose() {
      await edge.close();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}
