// Keeps one child process (cloudflared) running: restart with backoff when it exits, stop on request.
//
// States and transitions:
//   idle ──start()──▶ starting ──'spawn'──▶ running
//   starting|running ──exit or spawn error──▶ backoff ──after restartDelay(attempt)──▶ starting
//   any ──restart()──▶ (child stopped) starting, attempt count reset (new token or config)
//   any ──stop()──▶ stopped (SIGTERM, SIGKILL after killAfterMs; no further restarts)
// Each spawn has a generation number, so the exit of a child replaced by restart() is ignored.
// The child's output goes to the log line by line, with any secret it might echo redacted.
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { attemptFor, restartDelay, type RestartPolicy } from "./restart-policy.ts";
import type { ExitInfo } from "./types.ts";
import type { Logger } from "../telemetry/index.ts";

export type SupervisorState = "idle" | "starting" | "running" | "backoff" | "stopped";

export type SupervisorStatus = {
  state: SupervisorState;
  pid: number | null;
  startedAt: string | null;
  restarts: number;
  attempt: number;
  nextRestartMs: number | null;
  exits: ExitInfo[];
};

export type Supervisor = {
  start(): void;
  restart(): Promise<void>;
  stop(): Promise<void>;
  status(): SupervisorStatus;
};

export function createSupervisor(o: {
  name: string;
  command: string;
  args: () => string[];
  env: Record<string, string>;
  policy: RestartPolicy;
  log: Logger;
  /** Values never to copy from the child's output into the log. */
  secrets?: () => string[];
  killAfterMs?: number;
}): Supervisor {
  let state: SupervisorState = "idle";
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let generation = 0;
  let startedAtMs = 0;
  let timer: NodeJS.Timeout | undefined;
  let nextRestartAt: number | null = null;
  let failures = 0;
  let restarts = 0;
  const exits: ExitInfo[] = [];

  const redact = (line: string) => {
    let out = line.length > 1000 ? `${line.slice(0, 1000)}…` : line;
    for (const s of o.secrets?.() ?? []) if (s) out = out.split(s).join("[redacted]");
    return out;
  };
  const forward = (stream: NodeJS.ReadableStream | null) => {
    if (!stream) return;
    createInterface({ input: stream }).on("line", (line) => o.log.info(`${o.name}: ${redact(line)}`));
  };

  function spawnOnce(): void {
    timer = undefined;
    nextRestartAt = null;
    state = "starting";
    const gen = ++generation;
    startedAtMs = Date.now();
    let settle!: () => void;
    exited = new Promise<void>((resolve) => (settle = resolve));
    let done = false;
    const onGone = (code: number | null, signal: string | null) => {
      if (done) return;
      done = true;
      settle();
      if (gen === generation) afterExit(code, signal);
    };
    const c = spawn(o.command, o.args(), { env: o.env, stdio: ["ignore", "pipe", "pipe"] });
    child = c;
    c.once("spawn", () => {
      if (gen === generation && state === "starting") state = "running";
    });
    // A binary that vanished or lost its exec bit: no 'exit' follows, so this counts as the exit.
    c.once("error", (e: NodeJS.ErrnoException) => {
      o.log.error(`${o.name}: could not run ${o.command} (${e.code ?? e.message})`);
      onGone(null, null);
    });
    c.once("exit", (code, signal) => onGone(code, signal));
    forward(c.stdout);
    forward(c.stderr);
  }

  function afterExit(code: number | null, signal: string | null): void {
    child = undefined;
    const ranMs = Date.now() - startedAtMs;
    if (state === "stopped") {
      exits.unshift({ code, signal, at: new Date().toISOString(), ranMs, restartInMs: null });
      exits.length = Math.min(exits.length, 10);
      return;
    }
    const attempt = attemptFor(failures, ranMs, o.policy);
    const delay = restartDelay(attempt, o.policy);
    failures = attempt + 1;
    exits.unshift({ code, signal, at: new Date().toISOString(), ranMs, restartInMs: delay });
    exits.length = Math.min(exits.length, 10);
    o.log.warn(
      `${o.name} exited (${signal ?? `code ${code}`}) after ${ranMs} ms; restarting in ${delay} ms (failure ${failures} in a row)`,
    );
    state = "backoff";
    nextRestartAt = Date.now() + delay;
    timer = setTimeout(() => {
      restarts++;
      spawnOnce();
    }, delay);
  }

  async function stopChild(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = undefined;
    nextRestartAt = null;
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return exited;
    c.kill("SIGTERM");
    let killer: NodeJS.Timeout | undefined;
    await Promise.race([
      exited,
      new Promise<void>((resolve) => (killer = setTimeout(() => (c.kill("SIGKILL"), resolve()), o.killAfterMs ?? 5_000))),
    ]);
    clearTimeout(killer);
    await exited;
  }

  return {
    start() {
      if (state === "idle") spawnOnce();
    },
    async restart() {
      if (state === "stopped") return;
      // The old child's exit belongs to an older generation once the new one starts; until then
      // it must not schedule a restart of its own.
      generation++;
      await stopChild();
      // stop() may have been called while the old child was going away.
      if ((state as SupervisorState) === "stopped") return;
      failures = 0;
      spawnOnce();
    },
    async stop() {
      state = "stopped";
      await stopChild();
    },
    status() {
      return {
        state,
        pid: state === "running" || state === "starting" ? (child?.pid ?? null) : null,
        startedAt: state === "running" ? new Date(startedAtMs).toISOString() : null,
        restarts,
        attempt: failures,
        nextRestartMs: nextRestartAt === null ? null : Math.max(0, nextRestartAt - Date.now()),
        exits: exits.map((e) => ({ ...e })),
      };
    },
  };
}
