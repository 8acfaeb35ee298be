// The real daemon in a child process of its own (support/daemon-child.ts), for tests that kill it,
// restart it on the same port, or read everything it writes to stderr; and a free port for them.
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const CHILD = fileURLToPath(new URL("./daemon-child.ts", import.meta.url));

/** What daemon-child.ts reads from CBO_TEST_DAEMON. */
export type DaemonChildInput = {
  dataDir: string;
  configFile: string;
  edge: unknown;
  checkpointEveryMs?: number;
  port?: number;
};

export type DaemonChild = {
  child: ChildProcess;
  url: string;
  adminTokenFile: string;
  /** Everything the daemon wrote to stderr so far (its log). */
  stderr(): string;
  /** Its exit code once it has exited. */
  exited: Promise<number | null>;
};

/** A port nothing listens on right now (bound and released at once), for a daemon that must keep its port across restarts. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Starts the daemon with `masterKey` (base64, as CBO_MASTER_KEY) and waits for its first line. */
export async function startDaemonChild(input: DaemonChildInput, masterKey: string, startMs = 60_000): Promise<DaemonChild> {
  let stderr = "";
  const child = spawn(process.execPath, [CHILD], {
    env: { ...process.env, CBO_MASTER_KEY: masterKey, CBO_TEST_DAEMON: JSON.stringify(input) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the daemon did not start: ${stderr.slice(-4000)}`)), startMs);
    createInterface({ input: child.stdout! }).once("line", (l) => (clearTimeout(timer), resolve(l)));
    void exited.then((code) => reject(new Error(`the daemon exited (${code}): ${stderr.slice(-4000)}`)));
  });
  const { url, adminTokenFile } = JSON.parse(line) as { url: string; adminTokenFile: string };
  return { child, url, adminTokenFile, stderr: () => stderr, exited };
}
