// The daemon's memory under repeated load (issue 11, item 11). `cbo up` (the local edge, the daemon,
// the example fleet released) runs in a child process started with --expose-gc and the Node flags
// of `npm start` (bench/daemon-memory-child.ts); each round here is what the fault test ran: 200 WebSocket
// clients on the event stream (replay from 0, then cut off without a close frame) and 2,000 GETs
// of the read API at 50 concurrent. After each round the child runs a full GC and reports its
// memory, so that garbage V8 has not collected yet is not counted as growth:
//   daemon.rss_growth_rounds_mib   RSS after round 10 minus after round 3 (goal <= 16 MiB: a leak of
//                                  a few KiB per request or client would show as tens of MiB)
//   daemon.heap_growth_rounds_mib  live JS heap after round 10 minus after round 3 (goal <= 2 MiB)
//   daemon.rss_round1_mib          RSS after the first round (info: start-up and warm-up)
// Without the GC between rounds RSS climbs for a few rounds (V8 lets the old generation grow before
// a full collection) and then levels off: with the flags of `npm start`, 228 MiB after round 1,
// 236-248 MiB from round 4 to round 40, and 43 MiB of live heap after a full GC at the end (without
// the small young generation the plateau was higher: 424 -> 555 MiB by round 20, flat to round 45).
import { fork } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { NODE_FLAGS } from "../src/packaging/facts.ts";
import { atMost, info, round, type Benchmark, type BenchContext, type BenchResult } from "./types.ts";

const ROUNDS = 10;
const CLIENTS = 200;
const GETS = 2_000;
const CONCURRENCY = 50;
const PATHS = [
  "/v1/status",
  "/v1/workers",
  "/v1/releases",
  "/v1/events?after=0",
  "/v1/health",
  "/v1/secrets",
  "/v1/audit?limit=50",
  "/v1/targets",
  "/v1/health/workers",
  "/v1/openapi.json",
  "/v1/workers/ads-api/versions",
  "/v1/workers/ads-api/config/history",
  "/v1/keys/workers",
  "/v1/tunnel/status",
  "/v1/setup",
  "/ui/",
];
const MiB = 2 ** 20;

type Memory = { rss: number; heapUsed: number; external: number };

async function rssGrowth(ctx: BenchContext): Promise<BenchResult[]> {
  const data = mkdtempSync(join(tmpdir(), "cbo-bench-daemon-mem-"));
  const child = fork(
    fileURLToPath(new URL("./daemon-memory-child.ts", import.meta.url)),
    ["--data", data, "--port", "0", "--edge-port", "0", "--json"],
    {
      // The flags `npm start` and the kit's launchers run Node with (a small young generation).
      execArgv: ["--expose-gc", ...NODE_FLAGS],
      cwd: data,
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    },
  );
  child.stderr!.on("data", () => {}); // cbo up's progress; not ours to print
  try {
    const up = await new Promise<{ apiUrl: string; adminTokenFile: string }>((resolve, reject) => {
      let out = "";
      child.stdout!.setEncoding("utf8").on("data", (d: string) => {
        out += d;
        const nl = out.indexOf("\n");
        if (nl >= 0) resolve(JSON.parse(out.slice(0, nl)));
      });
      child.once("exit", (code) => reject(new Error(`cbo up exited (${code}) before it was up`)));
    });
    const url = up.apiUrl.replace(/\/v1\/?$/, "").replace(/\/$/, "");
    const token = readFileSync(up.adminTokenFile, "utf8").trim();
    const memory = () =>
      new Promise<Memory>((resolve) => {
        const on = (m: { mem?: Memory }) => {
          if (!m.mem) return;
          child.off("message", on);
          resolve(m.mem);
        };
        child.on("message", on);
        child.send({ mem: true });
      });

    async function oneRound(): Promise<number> {
      const sockets = await Promise.all(
        Array.from(
          { length: CLIENTS },
          () =>
            new Promise<WebSocket>((resolve) => {
              const ws = new WebSocket(`${url.replace(/^http/, "ws")}/v1/events/stream?after=0`, {
                headers: { authorization: `Bearer ${token}` },
                perMessageDeflate: false,
              });
              ws.once("open", () => resolve(ws));
              ws.once("error", () => resolve(ws));
            }),
        ),
      );
      await new Promise((r) => setTimeout(r, 300));
      for (const ws of sockets) ws.terminate();
      let next = 0;
      let failed = 0;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < GETS) {
            const path = PATHS[next++ % PATHS.length]!;
            const res = await fetch(url + path, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(60_000) });
            await res.arrayBuffer();
            if (!res.ok) failed++;
          }
        }),
      );
      return failed;
    }

    const rounds: Array<{ round: number; rssMiB: number; heapMiB: number; failed: number }> = [];
    for (let i = 1; i <= ROUNDS; i++) {
      const failed = await oneRound();
      const m = await memory();
      rounds.push({ round: i, rssMiB: round(m.rss / MiB, 1), heapMiB: round(m.heapUsed / MiB, 1), failed });
      ctx.log(
        `daemon: round ${i}: rss ${(m.rss / MiB).toFixed(1)} MiB, heap ${(m.heapUsed / MiB).toFixed(1)} MiB${failed ? `, ${failed} GETs failed` : ""}`,
      );
    }
    const at = (n: number) => rounds[n - 1]!;
    const failed = rounds.reduce((s, r) => s + r.failed, 0);
    if (failed > 0) throw new Error(`${failed} GETs failed: the load did not run as designed`);
    const extra = {
      rounds: rounds.map((r) => [r.rssMiB, r.heapMiB]),
      load: `${CLIENTS} WebSocket clients + ${GETS} GETs at ${CONCURRENCY} concurrent per round, full GC after each`,
    };
    return [
      atMost("daemon.rss_growth_rounds_mib", at(10).rssMiB - at(3).rssMiB, "MiB", 16, extra),
      atMost("daemon.heap_growth_rounds_mib", at(10).heapMiB - at(3).heapMiB, "MiB", 2),
      info("daemon.rss_round1_mib", at(1).rssMiB, "MiB"),
    ];
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => (child.exitCode === null ? child.once("exit", r) : r(undefined)));
    rmSync(data, { recursive: true, force: true });
  }
}

export const benchmarks: Benchmark[] = [{ name: "daemon.rss_growth_rounds", run: rssGrowth }];
