// The memory floor of the daemon's dependencies, none of our code: Node with node:sqlite, a Hono
// server on @hono/node-server, ws, yaml and zod loaded, polling a SQLite file and itself over node:http every
// 200 ms as an idle daemon polls. bench/daemon-rss.ts reads its RSS after the same idle wait. It
// gives its start-up memory back the way the daemon does (src/telemetry/memory-reducer.ts), so the
// two readings compare like with like.
import { get } from "node:http";
import { DatabaseSync } from "node:sqlite";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { WebSocketServer } from "ws";
import YAML from "yaml";
import * as z from "zod";
import { silentLogger, startMemoryReducer } from "../src/telemetry/index.ts";

const db = new DatabaseSync(process.argv[2]!);
db.exec("CREATE TABLE IF NOT EXISTS t (x)");
const Body = z.object({ ok: z.boolean() });
const app = new Hono();
app.get("/", (c) => c.json(Body.parse({ ok: true })));
const server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, (info) => {
  new WebSocketServer({ noServer: true });
  YAML.parse("a: 1");
  setInterval(() => {
    db.prepare("SELECT COUNT(*) FROM t").get();
    // node:http, as the daemon's Cloudflare client and probes call out (never Node's fetch).
    get(`http://127.0.0.1:${info.port}/`, (r) => r.resume());
  }, 200);
  startMemoryReducer({ log: silentLogger });
  process.stdout.write("up\n");
});
process.on("SIGINT", () => server.close(() => process.exit(0)));
