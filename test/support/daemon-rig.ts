// An in-process daemon for a test, as most daemon tests start one: a fresh master key file and
// orchestrator.yaml in the test's temp dir, the test edge, no env, a random port, a monitor slow
// enough not to act during the test, and no log output. `overrides` sets what a test varies.
import { join } from "node:path";
import { startDaemon, type Daemon, type DaemonOptions } from "../../src/daemon.ts";
import type { RegionInfo } from "../../src/local-edge/types.ts";
import { generateKeyFile } from "../../src/vault/index.ts";

/**
 * An edge no test reaches (port 9, discard): for daemons whose test never releases, so nothing of
 * theirs touches a target, and a call that did would fail at once instead of reaching something.
 */
export const UNREACHABLE_EDGE = {
  apiUrl: "http://127.0.0.1:9",
  token: "unused",
  regions: [
    {
      name: "eu",
      accountId: "e".repeat(32),
      accountName: "eu",
      subdomain: "eu",
      port: 9,
      publicUrl: "http://127.0.0.1:9",
    } satisfies RegionInfo,
  ],
};

export async function startDaemonIn(dir: string, edge: DaemonOptions["edge"], overrides: Partial<DaemonOptions> = {}): Promise<Daemon> {
  const masterKeyFile = join(dir, "master.key");
  generateKeyFile(masterKeyFile);
  return startDaemon({
    dataDir: join(dir, "data"),
    configFile: join(dir, "orchestrator.yaml"),
    edge,
    masterKeyFile,
    env: {},
    port: 0,
    monitorIntervalMs: 60_000,
    log: () => {},
    ...overrides,
  });
}

/** A JSON call with a bearer token; `bearer` overrides the token for one call. */
export type BearerApi = <T>(method: string, path: string, body?: unknown, bearer?: string) => Promise<T>;

/** Where to call and as whom: a value, or a function read at each call (for what a beforeAll sets later). */
type Target = { url: string; token: string };

/**
 * JSON calls to a daemon's API as one token: the parsed answer, or an error naming the call, the
 * status and the start of the body on any non-2xx answer (so a test fails on the call that broke).
 */
export function bearerApi(to: Target | (() => Target)): BearerApi {
  return async <T>(method: string, path: string, body?: unknown, bearer?: string): Promise<T> => {
    const { url, token } = typeof to === "function" ? to() : to;
    const res = await fetch(new URL(path, url), {
      method,
      headers: {
        authorization: `Bearer ${bearer ?? token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
    return JSON.parse(text) as T;
  };
}
