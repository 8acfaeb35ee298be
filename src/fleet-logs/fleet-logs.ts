// Fleet logs: tail sessions on every target of the workers whose logs are kept (orchestrator.yaml
// `logs.workers`) and of the workers someone follows right now (`cbo logs --follow`, the
// dashboard's log view), one session per worker and target however many follow it. Each message
// becomes a log line that is
//   - kept raw in the local copy (raw-store.ts) when its worker's logs are kept,
//   - shipped redacted (redact.ts, shipper.ts) when shipping is configured, for kept workers,
//   - handed to every subscriber (the API's log streams) as it is; readers get it redacted to
//     their level by present().
//
// reconcile() is level-based: it reads the spec and the followers and opens or closes sessions,
// the local copy and the shipper to match; it runs every couple of seconds (orchestrator.yaml may
// change) and at once when someone starts or stops following.
import { join } from "node:path";
import type { ResolvedSpec } from "../config/load.ts";
import type { LogLine, LogsStatus } from "../contract/index.ts";
import { CboError } from "../kit/errors.ts";
import type { TargetRuntime } from "../targets/types.ts";
import { type Logger, silentLogger } from "../telemetry/index.ts";
import { matches, type LineFilter } from "./filter.ts";
import { openRawStore, type RawStore } from "./raw-store.ts";
import { redactLine } from "./redact.ts";
import type { SecretValueSource } from "./secret-values.ts";
import type { Shipper } from "./shipper.ts";
import { sinkLabel } from "./sink-label.ts";
import { parseTailMessage, toLogLine } from "./tail-message.ts";
import { openTailSession, type TailSessionHandle, type TailSessionOptions } from "./tail-session.ts";

/** What a reader may see: `raw` (secret values masked), or `redacted` (as shipped). */
export type ReadLevel = "raw" | "redacted";

export const RAW_LOGS_FILE = "fleet-logs.sqlite";

export type FleetLogsDeps = {
  dataDir: string;
  spec: () => ResolvedSpec;
  targets: () => Map<string, TargetRuntime>;
  /** The values to mask per worker, and the shipping headers' values (the vault). */
  secrets: SecretValueSource;
  log?: Logger;
  /** How often the spec is looked at again (default 2 s). */
  reconcileMs?: number;
  /** Tail session tuning (tests). */
  tail?: Pick<TailSessionOptions, "backoff" | "renewAfterMs" | "renewMarginMs" | "pingMs">;
  /** Shipping retry backoff (tests). */
  shipBackoff?: { baseMs: number; maxMs: number };
};

type SessionEntry = { handle: TailSessionHandle; kept: boolean };
const keyOf = (worker: string, target: string) => `${worker}\u0000${target}`;

export function createFleetLogs(deps: FleetLogsDeps) {
  const log = deps.log ?? silentLogger;
  const sessions = new Map<string, SessionEntry>();
  const followers = new Map<string, number>();
  const subscribers = new Set<(line: LogLine) => void>();
  let store: RawStore | undefined;
  let shipper: Shipper | undefined;
  let shipKey: string | undefined;
  let shipLoading: Promise<void> | undefined;
  let kept = new Set<string>();
  let closed = false;

  const rulesFor = (worker: string, level: ReadLevel) =>
    level === "raw"
      ? { secrets: deps.secrets.forWorker(worker), patterns: false, fields: [] }
      : { secrets: deps.secrets.forWorker(worker), patterns: true, fields: deps.spec().logs?.ship?.redact ?? [] };

  function present(line: LogLine, level: ReadLevel): LogLine {
    return redactLine(line, rulesFor(line.worker, level));
  }

  function onMessage(worker: string, target: string, text: string, receivedAt: number): void {
    const m = parseTailMessage(text);
    if (!m) return;
    const keep = kept.has(worker) && store !== undefined;
    const probe = toLogLine(m, { worker, target, id: null, receivedAt });
    const id = keep ? store!.add({ at: receivedAt, worker, target, verdict: probe.verdict, raw: text }) : null;
    const line = id === null ? probe : { ...probe, id };
    if (keep && shipper) {
      try {
        shipper.push(present(line, "redacted"));
      } catch (e) {
        log.warn(
          `fleet logs: a line of ${worker} could not be redacted for shipping (not shipped): ${e instanceof Error ? e.message : String(e)}`,
        );
      }
    }
    for (const fn of subscribers) {
      try {
        fn(line);
      } catch (e) {
        log.error(`fleet logs: a subscriber failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  function syncStore(spec: ResolvedSpec): void {
    const want = spec.logs;
    if (want && !store) {
      store = openRawStore({ file: join(deps.dataDir, RAW_LOGS_FILE), keepMs: want.keepMs, maxBytes: want.maxBytes, log });
      store.prune();
    } else if (want && store) store.setBounds({ keepMs: want.keepMs, maxBytes: want.maxBytes });
    else if (!want && store) {
      // Kept lines stay on disk (retention applies again when logs: comes back); only writing stops.
      store.close();
      store = undefined;
    }
  }

  function syncShipper(spec: ResolvedSpec): void {
    const ship = spec.logs?.ship;
    const key = ship ? JSON.stringify(ship) : undefined;
    if (key === shipKey || shipLoading) return;
    const old = shipper;
    shipper = undefined;
    shipKey = key;
    void old?.close();
    if (!ship) return;
    // Loaded only when shipping is configured: node:https and the OTLP encoder cost an idle daemon nothing.
    shipLoading = import("./shipper.ts")
      .then(({ createShipper }) => {
        if (closed || shipKey !== key) return;
        shipper = createShipper({
          url: ship.url,
          format: ship.format,
          headers: () => Object.fromEntries(Object.entries(ship.headers ?? {}).map(([h, secret]) => [h, deps.secrets.headerValue(secret)])),
          batchLines: ship.batch_lines,
          flushMs: ship.flush_ms,
          queueLines: ship.queue_lines,
          tenant: spec.tenant,
          log,
          ...(deps.shipBackoff ? { backoff: deps.shipBackoff } : {}),
        });
      })
      .finally(() => (shipLoading = undefined));
  }

  function reconcile(): void {
    if (closed) return;
    const spec = deps.spec();
    syncStore(spec);
    syncShipper(spec);
    kept = new Set(spec.logs?.workers ?? []);
    const targets = deps.targets();
    const want = new Map<string, { worker: string; target: string; kept: boolean }>();
    for (const w of spec.workers) {
      if (!kept.has(w.name) && !followers.has(w.name)) continue;
      for (const t of w.targets) if (targets.has(t)) want.set(keyOf(w.name, t), { worker: w.name, target: t, kept: kept.has(w.name) });
    }
    for (const [k, s] of sessions) {
      if (want.has(k)) continue;
      sessions.delete(k);
      void s.handle.close();
    }
    for (const [k, w] of want) {
      const have = sessions.get(k);
      if (have) {
        have.kept = w.kept;
        continue;
      }
      const handle = openTailSession({
        worker: w.worker,
        target: w.target,
        client: targets.get(w.target)!.client,
        onMessage: (text, at) => onMessage(w.worker, w.target, text, at),
        log,
        ...deps.tail,
      });
      sessions.set(k, { handle, kept: w.kept });
    }
  }

  const flushTimer = setInterval(() => store?.flush(), 250);
  flushTimer.unref?.();
  const loop = setInterval(reconcile, deps.reconcileMs ?? 2_000);
  loop.unref?.();
  let prunedAt = 0;
  const pruner = setInterval(() => {
    // Often enough that a short `keep` holds: a quarter of it, between 1 s and a minute.
    const every = Math.min(60_000, Math.max(1_000, (deps.spec().logs?.keepMs ?? 60_000) / 4));
    if (!store || Date.now() - prunedAt < every) return;
    prunedAt = Date.now();
    store.prune();
  }, 1_000);
  pruner.unref?.();
  reconcile();

  return {
    /** Every line as it arrives (the raw view; present() it for a reader). */
    subscribe(fn: (line: LogLine) => void): () => void {
      subscribers.add(fn);
      return () => subscribers.delete(fn);
    },
    /** Keeps `worker`'s tail sessions open until the returned function is called. */
    follow(worker: string): () => void {
      if (!deps.spec().workers.some((w) => w.name === worker))
        throw new CboError("ERR_NOT_FOUND", `No worker ${worker} in orchestrator.yaml.`, { hint: "GET /v1/workers lists them." });
      followers.set(worker, (followers.get(worker) ?? 0) + 1);
      reconcile();
      let done = false;
      return () => {
        if (done) return;
        done = true;
        const n = (followers.get(worker) ?? 1) - 1;
        if (n <= 0) followers.delete(worker);
        else followers.set(worker, n);
        reconcile();
      };
    },
    present,
    /** The kept lines matching `q`, oldest first (at most `limit`, the newest). */
    list(q: LineFilter & { limit?: number | undefined; before?: number | undefined }, level: ReadLevel): LogLine[] {
      if (!store)
        throw new CboError("ERR_CONFLICT", "This daemon keeps no fleet logs.", {
          // The worker asked about when there is one, so that the command runs as printed.
          hint: `Add logs: {workers: [...], keep: 7d} to orchestrator.yaml, or follow them live (cbo logs ${q.worker ?? "<worker>"} --follow).`,
        });
      store.flush();
      const limit = q.limit ?? 100;
      const out: LogLine[] = [];
      let before = q.before;
      // A text search scans back at most this many lines per request.
      for (let scanned = 0; out.length < limit && scanned < 20_000; ) {
        const rows = store.page({ worker: q.worker, target: q.target, status: q.status, before }, 500);
        if (rows.length === 0) break;
        scanned += rows.length;
        for (const r of rows) {
          const m = parseTailMessage(r.raw);
          if (!m) continue;
          const line = present(toLogLine(m, { worker: r.worker, target: r.target, id: r.id, receivedAt: r.at }), level);
          if (matches(line, { search: q.search }) && out.length < limit) out.push(line);
        }
        before = rows.at(-1)!.id;
      }
      if (out.length === 0 && q.worker !== undefined && !kept.has(q.worker) && q.before === undefined)
        throw new CboError("ERR_CONFLICT", `The logs of ${q.worker} are not kept.`, {
          hint: `Add it to logs.workers in orchestrator.yaml, or follow it live (cbo logs ${q.worker} --follow).`,
        });
      return out.reverse();
    },
    status(): LogsStatus {
      const spec = deps.spec();
      const st = store?.stats();
      const sh = shipper?.stats();
      const ship = spec.logs?.ship;
      return {
        kept: {
          enabled: store !== undefined,
          keepSeconds: spec.logs ? spec.logs.keepMs / 1000 : null,
          maxBytes: spec.logs?.maxBytes ?? null,
          workers: spec.logs?.workers ?? [],
          lines: st?.lines ?? 0,
          bytes: st?.bytes ?? 0,
          oldest: st?.oldest ? new Date(st.oldest).toISOString() : null,
          dropped: st?.dropped ?? 0,
        },
        sessions: [...sessions.values()].map(({ handle, kept: k }) => {
          const i = handle.info();
          return {
            worker: i.worker,
            target: i.target,
            state: i.state,
            kept: k,
            since: new Date(i.since).toISOString(),
            lines: i.lines,
            reconnects: i.reconnects,
            renewals: i.renewals,
            expiresAt: i.expiresAt ? new Date(i.expiresAt).toISOString() : null,
            lastError: i.lastError,
          };
        }),
        shipping: {
          enabled: ship !== undefined,
          format: ship?.format ?? null,
          sink: ship ? sinkLabel(ship.url) : null,
          queued: sh?.queued ?? 0,
          shipped: sh?.shipped ?? 0,
          dropped: sh?.dropped ?? 0,
          failedAttempts: sh?.failedAttempts ?? 0,
          lastError: sh?.lastError ?? null,
          lastShippedAt: sh?.lastShippedAt ?? null,
        },
      };
    },
    reconcile,
    /** Stops every session, ships what is queued (briefly), closes the local copy. */
    async close(): Promise<void> {
      closed = true;
      clearInterval(loop);
      clearInterval(flushTimer);
      clearInterval(pruner);
      await Promise.all([...sessions.values()].map((s) => s.handle.close()));
      sessions.clear();
      await shipLoading;
      await shipper?.close();
      store?.close();
      store = undefined;
    },
  };
}
export type FleetLogs = ReturnType<typeof createFleetLogs>;
