// The tunnel tests' rig: a real local edge, a real daemon on it (loopback), a fleet written to a
// temp dir, and the admin token; plus a raw reader of the edge's own tunnel API.
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startDaemon, type Daemon, type DaemonOptions } from "../src/daemon.ts";
import { generateKeyFile } from "../src/vault/index.ts";
import { makeTempDir, startTestEdge, type TestEdge } from "./support/edge.ts";

export type TunnelRig = {
  t: TestEdge;
  dir: string;
  dataDir: string;
  d: Daemon;
  token: string;
  logs: string[];
  api<T = Record<string, unknown>>(method: string, path: string, body?: unknown, expectStatus?: number): Promise<T>;
  /** GET on the local edge's Cloudflare API, as any client would see it. */
  edgeGet<T = unknown>(path: string): Promise<T>;
  close(): Promise<void>;
};

export async function startTunnelRig(o: {
  spec: string;
  files?: Record<string, string>;
  daemon?: Partial<DaemonOptions>;
}): Promise<TunnelRig> {
  const t = await startTestEdge({ regions: ["eu"] });
  const dir = await makeTempDir("tunnel");
  writeFileSync(join(dir, "orchestrator.yaml"), o.spec);
  for (const [name, text] of Object.entries(o.files ?? {})) writeFileSync(join(dir, name), text);
  const keyFile = join(dir, "master.key");
  generateKeyFile(keyFile);
  const logs: string[] = [];
  const dataDir = join(dir, "data");
  const first = await startDaemon({
    dataDir,
    configFile: join(dir, "orchestrator.yaml"),
    edge: t.edge,
    masterKeyFile: keyFile,
    env: {},
    port: 0,
    monitorIntervalMs: 60_000,
    log: (line) => logs.push(line),
    ...o.daemon,
  });
  const token = first.initialAdminToken!;
  async function api<T>(method: string, path: string, body?: unknown, expectStatus?: number): Promise<T> {
    // rig.d, not `first`: a test may replace the daemon (a restart on the same data).
    const res = await fetch(new URL(path, rig.d.url), {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json = (await res.json()) as T;
    if (expectStatus !== undefined) {
      if (res.status !== expectStatus)
        throw new Error(`${method} ${path}: expected ${expectStatus}, got ${res.status} ${JSON.stringify(json)}`);
    } else if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  }
  async function edgeGet<T>(path: string): Promise<T> {
    const res = await fetch(t.edge.apiUrl + path, { headers: { authorization: `Bearer ${t.edge.token}` } });
    const body = (await res.json()) as { success: boolean; result: T };
    if (!body.success) throw new Error(`GET ${path}: ${JSON.stringify(body)}`);
    return body.result;
  }
  const rig: TunnelRig = {
    t,
    dir,
    dataDir,
    d: first,
    token,
    logs,
    api,
    edgeGet,
    async close() {
      await rig.d.close();
      await t.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return rig;
}
