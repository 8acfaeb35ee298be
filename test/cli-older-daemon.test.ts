// This version's CLI against a daemon still running an older version (task UPGRADE): after
// `git pull && npm install` the daemon keeps running the previous code until it is restarted.
// The older daemon is a TEST DOUBLE, since an old revision cannot be built at test time: real HTTP
// on 127.0.0.1 answering with bodies recorded from real daemons of older revisions (162a382 and
// 8b0cbbb; the token id below is the one they named).
//   - config history and secret versions from a daemon before createdByToken (commit 8d4fa04),
//     whose createdBy is the stored actor `token:<name>:<id>`: read as today's daemon writes them
//     (name in the BY column, the id apart in --json), not refused as an unexpected shape;
//   - an answer of another shape altogether (as daemons before cursor pages answered lists): one
//     error line saying to restart the daemon, no stack.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDaemonClient } from "../src/client/index.ts";
import { runCbo } from "./support/run-cbo.ts";

const TOKEN = "cbo_admin_olderdaemon0123456789abcdef";
const BY = "token:initial admin:708c08ba-755e-452c-a549-07a06115c4d0";
const ANSWERS: Record<string, unknown> = {
  "/v1/secrets/APP_KEY/versions": [
    { version: 1, createdAt: "2026-12-07T16:39:23.213Z", createdBy: BY, destroyed: false },
    { version: 2, createdAt: "2026-12-07T16:39:24.536Z", createdBy: "daemon", destroyed: false },
  ],
  "/v1/workers/ads-api/config/history": [
    {
      version: 2,
      hash: "83d0cd5ab077067faa307d460b0a4442d99e1685378edd232945244b7ca1f32c",
      rollbackOf: 1,
      createdAt: "2026-12-07T16:39:29.084Z",
      createdBy: BY,
      targets: ["eu", "us", "ap"],
    },
    {
      version: 1,
      hash: "83d0cd5ab077067faa307d460b0a4442d99e1685378edd232945244b7ca1f32c",
      rollbackOf: null,
      createdAt: "2026-12-07T16:39:18.516Z",
      createdBy: "cbo up",
      targets: ["eu", "us", "ap"],
    },
  ],
  // Another shape altogether (made up: a page where a list is expected), as a far older or newer daemon may answer.
  "/v1/secrets/PAGED/versions": { items: [], next: null },
};

let server: http.Server;
let url: string;
beforeAll(async () => {
  server = http.createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const body = req.headers.authorization === `Bearer ${TOKEN}` ? ANSWERS[path] : undefined;
    res.writeHead(body === undefined ? 404 : 200, { "content-type": "application/json" });
    res.end(JSON.stringify(body ?? { error: { code: "ERR_NOT_FOUND", message: `no ${path}` } }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const cbo = (...args: string[]) => runCbo([...args, "--url", url], { env: { CBO_TOKEN: TOKEN } });

describe("an older daemon's answers", () => {
  it("secret versions and config history without createdByToken are read with the token's name and id apart", async () => {
    const client = createDaemonClient({ url, token: TOKEN });
    expect(await client.secretVersions("APP_KEY")).toEqual([
      {
        version: 1,
        createdAt: "2026-12-07T16:39:23.213Z",
        createdBy: "initial admin",
        createdByToken: "708c08ba-755e-452c-a549-07a06115c4d0",
        destroyed: false,
      },
      { version: 2, createdAt: "2026-12-07T16:39:24.536Z", createdBy: "daemon", createdByToken: null, destroyed: false },
    ]);
    const history = await client.configHistory("ads-api");
    expect(history.map((h) => [h.createdBy, h.createdByToken])).toEqual([
      ["initial admin", "708c08ba-755e-452c-a549-07a06115c4d0"],
      ["cbo up", null],
    ]);
  });

  it("the CLI prints them (BY column, --json)", async () => {
    const versions = await cbo("secrets", "versions", "APP_KEY");
    expect(versions.stderr).toBe("");
    expect(versions.code).toBe(0);
    expect(versions.stdout.split("\n")[1]).toMatch(/^1\s+2026-12-07T16:39:23.213Z\s+initial admin\s+-$/);
    const history = await cbo("config", "history", "ads-api", "--json");
    expect(history.code).toBe(0);
    expect(JSON.parse(history.stdout)[0]).toMatchObject({
      createdBy: "initial admin",
      createdByToken: "708c08ba-755e-452c-a549-07a06115c4d0",
    });
  });

  it("an answer of another shape: one line saying to restart the daemon, no stack", async () => {
    const r = await cbo("secrets", "versions", "PAGED");
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      "error ERR_INTERNAL: The daemon's answer to GET /v1/secrets/PAGED/versions has an unexpected shape (at the top: invalid_type).\n" +
        "hint: the daemon probably runs another cbo version than this command (after git pull && npm install, or a new kit, restart the daemon: stop npx cbo up or npx cbo daemon and start it again, or restart its service)\n",
    );
  });
});
