// Relay secrets: fetched from the orchestrator at run time, sealed to this Worker's key, held in
// this isolate's memory until their expiry and never anywhere else (not KV, not a log, not an
// error message). Concurrent reads of one secret share one fetch. An expired value is fetched
// again; if that fails the read fails: a Worker that must keep working with the VPS down uses a
// `binding` secret instead.
import { CboError } from "../kit/errors.ts";
import { RELAY_PATH, RELAY_TTL_MAX_SEC, createRelayRequest, openRelayResponse } from "../kit/relay.ts";

export type RelayClient = {
  /** `traceparent`: the span of the request it is fetched for, which the orchestrator continues. */
  get(name: string, traceparent?: string): Promise<string>;
  /** How many values are held and fresh (health shows the count only: even names stay off a public route). */
  cachedCount(): number;
};

export type RelayDeps = {
  orchestratorUrl: string;
  worker: string;
  target: string;
  workerKey: Uint8Array;
  versionId: string | null;
  /** Pins from CBO_SECRET_VERSIONS: the version each secret was released with. */
  pins: Record<string, number>;
  now: () => number;
  fetch: typeof fetch;
};

type Entry = { value: string; version: number; expiresAt: number };

export function createRelayClient(deps: RelayDeps): RelayClient {
  const url = `${deps.orchestratorUrl}${RELAY_PATH}`;
  const cache = new Map<string, Entry>();
  const pending = new Map<string, Promise<string>>();

  async function fetchSecret(name: string, traceparent: string | undefined): Promise<string> {
    const version = deps.pins[name];
    const req = await createRelayRequest(
      {
        worker: deps.worker,
        target: deps.target,
        secret: name,
        ...(version === undefined ? {} : { version }),
        ...(deps.versionId === null ? {} : { versionId: deps.versionId }),
      },
      deps.workerKey,
      { now: deps.now },
    );
    let res: Response;
    try {
      const headers = traceparent ? { ...req.headers, traceparent } : req.headers;
      res = await deps.fetch(url, { method: "POST", headers, body: req.body });
    } catch (e) {
      throw new CboError("ERR_IO", `Relay secret ${name}: the orchestrator could not be reached.`, { cause: e });
    }
    if (!res.ok) {
      await res.body?.cancel();
      // The answer's body is not echoed: it is the orchestrator's to explain in its own log.
      const code =
        res.status === 401 ? "ERR_UNAUTHORIZED" : res.status === 403 ? "ERR_FORBIDDEN" : res.status === 404 ? "ERR_NOT_FOUND" : "ERR_IO";
      throw new CboError(code, `Relay secret ${name}: the orchestrator answered HTTP ${res.status}.`);
    }
    let json: unknown;
    try {
      json = await res.json();
    } catch {
      throw new CboError("ERR_UNAUTHORIZED", `Relay secret ${name}: the answer is not JSON.`);
    }
    const now = deps.now();
    const opened = await openRelayResponse(json, { worker: deps.worker, target: deps.target, secret: name }, deps.workerKey, now);
    // Whatever the answer says, never hold a value longer than the protocol's ceiling.
    const expiresAt = Math.min(opened.expiresAt, now + RELAY_TTL_MAX_SEC * 1000);
    cache.set(name, { value: opened.value, version: opened.version, expiresAt });
    return opened.value;
  }

  return {
    async get(name, traceparent) {
      const hit = cache.get(name);
      if (hit !== undefined) {
        if (hit.expiresAt > deps.now()) return hit.value;
        cache.delete(name);
      }
      let p = pending.get(name);
      if (p === undefined) {
        p = fetchSecret(name, traceparent).finally(() => pending.delete(name));
        pending.set(name, p);
      }
      return p;
    },
    cachedCount() {
      const now = deps.now();
      let n = 0;
      for (const e of cache.values()) if (e.expiresAt > now) n++;
      return n;
    },
  };
}
