// Starts test/support/migration-child.ts (a real daemon in a child process, running one release and
// saying when each D1 phase begins) and hands back its lines and a SIGKILL: what the D1 crash
// tests kill inside a phase.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { EdgeInfo } from "./orchestrator.ts";

const CHILD = fileURLToPath(new URL("./migration-child.ts", import.meta.url));

export type MigrationChildLine = { started?: string; done?: string; status?: string; phase?: string; target?: string };
export type MigrationChild = {
  id: string;
  lines: MigrationChildLine[];
  onLine(f: (l: MigrationChildLine) => void): void;
  exited: Promise<{ code: number | null; signal: string | null }>;
  kill(): void;
};

export function runMigrationChild(
  info: EdgeInfo,
  specFile: string,
  storeFile: string,
  worker: string,
  opts: { killAt?: { kind: string; target: string } } = {},
): Promise<MigrationChild> {
  const child = spawn(process.execPath, [CHILD], {
    env: { ...process.env, CBO_TEST_CHILD: JSON.stringify({ edge: info, specFile, storeFile, worker, ...opts }) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr.on("data", (c: Buffer) => (err = (err + c.toString()).slice(-4000)));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  const lines: MigrationChildLine[] = [];
  const listeners: Array<(l: MigrationChildLine) => void> = [];
  createInterface({ input: child.stdout }).on("line", (raw) => {
    const l = JSON.parse(raw) as MigrationChildLine;
    lines.push(l);
    for (const f of listeners) f(l);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the child did not start a release in 30 s: ${err}`)), 30_000);
    listeners.push((l) => {
      if (!l.started) return;
      clearTimeout(timer);
      resolve({ id: l.started, lines, onLine: (f) => listeners.push(f), exited, kill: () => child.kill("SIGKILL") });
    });
    void exited.then((x) => {
      clearTimeout(timer);
      reject(new Error(`the child exited (${x.code ?? x.signal}) before starting a release: ${err}`));
    });
  });
}
