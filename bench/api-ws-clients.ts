// Child process of bench/api.bench.ts: opens N WebSocket clients on the daemon's event stream and
// records, for every event received, how long after it was recorded it arrived. Apart from the
// server's process, so that the clients do not share its event loop. Options come as JSON in
// argv[2]; the token in CBO_BENCH_TOKEN (never argv); coordination over the IPC channel:
//   child -> {ready}            every client is connected
//   child -> {complete}         every client has every measured event
//   parent -> {report}          child -> {latencies, perClient} and exits
import WebSocket from "ws";

const opts = JSON.parse(process.argv[2] ?? "{}") as { url: string; clients: number; after: number; events: number };
const token = process.env.CBO_BENCH_TOKEN ?? "";
const now = () => performance.timeOrigin + performance.now();

const latencies: number[] = [];
const perClient = new Array<number>(opts.clients).fill(0);
let measured = 0;
const target = opts.clients * opts.events;
const sockets: WebSocket[] = [];

function open(i: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${opts.url.replace(/^http/, "ws")}/v1/events/stream?after=${opts.after}`, {
      headers: { authorization: `Bearer ${token}` },
      perMessageDeflate: false,
    });
    ws.on("message", (raw) => {
      const at = now();
      const e = JSON.parse(raw.toString()) as { data: { seq?: number; t?: number } };
      if (e.data.seq === undefined || e.data.seq < 0 || e.data.t === undefined) return;
      latencies.push(at - e.data.t);
      perClient[i]!++;
      if (++measured === target) process.send!({ complete: true });
    });
    ws.once("open", () => resolve());
    ws.once("error", reject);
    sockets.push(ws);
  });
}

for (let i = 0; i < opts.clients; i += 100) {
  await Promise.all(Array.from({ length: Math.min(100, opts.clients - i) }, (_, j) => open(i + j)));
}
process.send!({ ready: true });

process.on("message", (m: { report?: boolean }) => {
  if (!m.report) return;
  for (const ws of sockets) ws.terminate();
  process.send!({ latencies, perClient }, () => process.exit(0));
});
