// The memory floor of the runtime alone: Node with node:sqlite and a node:http server that polls
// a SQLite file and itself every 200 ms as an idle daemon polls, with the memory reducer the daemon
// runs (src/telemetry/memory-reducer.ts), and nothing else: no zod, yaml, ws, Hono or Web
// Request/Response. bench/daemon-rss.ts reads its RSS after the daemon's idle wait; the gap to
// bench/rss-floor-child.ts (the daemon's dependencies) and to the daemon is what each layer costs.
//
// node:http is taken with process.getBuiltinModule, not an ESM import: importing node:http as an
// ES module builds its namespace, which reads http.WebSocket and loads Node's bundled undici
// (about 14 MiB); the daemon pays that anyway (Hono's node adapter and the Cloudflare transport use
// the Web Request/Response classes), the runtime floor does not.
import { DatabaseSync } from "node:sqlite";
import { silentLogger, startMemoryReducer } from "../src/telemetry/index.ts";

const { createServer, get } = process.getBuiltinModule("node:http");
const db = new DatabaseSync(process.argv[2]!);
db.exec("CREATE TABLE IF NOT EXISTS t (x)");
const server = createServer((_req, res) => {
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify({ ok: true, rows: db.prepare("SELECT COUNT(*) AS n FROM t").get() }));
});
server.listen(0, "127.0.0.1", () => {
  const { port } = server.address() as { port: number };
  setInterval(() => {
    db.prepare("SELECT COUNT(*) FROM t").get();
    get(`http://127.0.0.1:${port}/`, (r) => r.resume());
  }, 200);
  startMemoryReducer({ log: silentLogger });
  process.stdout.write("up\n");
});
process.on("SIGINT", () => server.close(() => process.exit(0)));
