// The memory floor of the daemon's dependencies, none of our code: Node with node:sqlite, a Hono
// server on @hono/node-server, ws, yaml and zod loaded, polling a SQLite file and fetch() every
// 200 ms as an idle daemon polls. bench/daemon-rss.ts reads its RSS after the same idle wait.
import { DatabaseSync } from "node:sqlite";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { WebSocketServer } from "ws";
import YAML from "yaml";
import * as z from "zod";

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
    void fetch(`http://127.0.0.1:${info.port}/`).then((r) => r.json());
  }, 200);
  process.stdout.write("up\n");
});
process.on("SIGINT", () => server.close(() => process.exit(0)));
