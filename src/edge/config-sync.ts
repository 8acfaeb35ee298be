// The agent's configuration: read from KV, served only once verified. States, per isolate:
//
//   empty    --load: valid lkg or current bundle--> applied
//   applied  --refresh/poke: valid, ordered after it--> applied (newer, or a newer rollback)
//   any      --bundle refused (signature, worker, order, schema)--> unchanged, rejection recorded
//
// Nothing unverified is ever held as applied. On start the last known good copy
// (config/<worker>/lkg) is checked first and the current key (config/<worker>) judged against
// it, so a fresh isolate neither serves a tampered current value nor accepts an older signed one
// put back in its place. Each newly applied bundle is written back as the last known good copy.
// A KV failure keeps whatever is applied; it is reported in health, never thrown at the app.
import { configKvKey, lastKnownGoodKvKey, orderConfig, verifyConfigBundle } from "../kit/protocol/index.ts";
import type { ConfigPayload, ConfigRejectionReason } from "../kit/protocol/index.ts";
import type { CryptoKey } from "../kit/signing/index.ts";
import type { RejectionLog } from "./rejections.ts";
import type { ConfigKv, ConfigParser } from "./types.ts";

export type AppliedConfig<C> = { payload: ConfigPayload; config: C; raw: string; appliedAt: number };

export type ConfigSync<C> = {
  applied(): AppliedConfig<C> | undefined;
  /** When KV was last read (epoch ms), 0 before the first read. */
  checkedAt(): number;
  refreshing(): boolean;
  lastError(): string | undefined;
  /** The first read: last known good, then current. */
  load(): Promise<void>;
  /** One read of the current key; concurrent calls share it. */
  refresh(): Promise<void>;
  /** After a poke: re-read (with growing pauses, KV being eventually consistent) until `version` is applied. */
  refreshUntil(version: number): Promise<void>;
};

export type ConfigSyncDeps<C> = {
  kv: ConfigKv;
  worker: string;
  target: string;
  publicKey: CryptoKey;
  parseConfig: ConfigParser<C>;
  rejections: RejectionLog;
  now: () => number;
  /** Pauses between poke-driven re-reads. */
  retryDelaysMs?: readonly number[];
  sleep?: (ms: number) => Promise<void>;
  warn?: (message: string) => void;
};

const RETRY_DELAYS_MS = [250, 500, 1000, 2000, 4000, 8000];

/** What one look at a KV value came to. */
type Outcome = "applied" | "unchanged" | "refused" | "missing" | "failed";

export function createConfigSync<C>(deps: ConfigSyncDeps<C>): ConfigSync<C> {
  const currentKey = configKvKey(deps.worker);
  const lkgKey = lastKnownGoodKvKey(deps.worker);
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let applied: AppliedConfig<C> | undefined;
  let lkgRaw: string | null = null;
  let checkedAt = 0;
  let inFlight: Promise<Outcome> | undefined;
  let lastError: string | undefined;
  // The last refused value and what was applied when it was refused: the same bytes against the
  // same state are refused (and reported) once, not on every poll.
  let refused: { raw: string; against: string | undefined } | undefined;

  const reject = (raw: string, reason: ConfigRejectionReason, version: number | undefined, source: string): Outcome => {
    refused = { raw, against: applied?.raw };
    deps.rejections.add({ reason, ...(version === undefined ? {} : { version }), at: new Date(deps.now()).toISOString() });
    deps.warn?.(
      `cbo edge agent: refused the config bundle in ${source} (${reason}${version === undefined ? "" : `, version ${version}`}); serving ${applied ? `version ${applied.payload.version}` : "no config"}`,
    );
    return "refused";
  };

  /** Judges one KV value against the applied bundle. */
  async function consider(raw: string, source: "current" | "lkg"): Promise<Outcome> {
    if (raw === applied?.raw) return "unchanged";
    if (refused !== undefined && refused.raw === raw && refused.against === applied?.raw) return "refused";
    const key = source === "lkg" ? lkgKey : currentKey;
    const verified = await verifyConfigBundle(raw, deps.publicKey, { worker: deps.worker, target: deps.target });
    if (!verified.ok) return reject(raw, verified.reason, verified.version, key);
    const payload = verified.payload;
    const config = deps.parseConfig.safeParse(payload.config);
    if (!config.success) return reject(raw, "invalid_config", payload.version, key);
    const order = orderConfig(applied?.payload, payload);
    if (order === "older_version") return reject(raw, "older_version", payload.version, key);
    if (order === "unchanged") return "unchanged";
    applied = { payload, config: config.data, raw, appliedAt: deps.now() };
    return "applied";
  }

  /** A KV call whose failure is labelled with what was being done (KV's message holds no config). */
  async function kvCall<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (e) {
      throw new Error(`${what}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  async function saveLastKnownGood(): Promise<void> {
    const raw = applied?.raw;
    if (raw === undefined || raw === lkgRaw) return;
    await kvCall(`writing ${lkgKey}`, () => deps.kv.put(lkgKey, raw));
    lkgRaw = raw;
  }

  /** Runs one sync pass; a failure keeps the applied bundle and is shown in health. */
  async function guarded(run: () => Promise<Outcome>): Promise<Outcome> {
    try {
      const outcome = await run();
      lastError = undefined;
      return outcome;
    } catch (e) {
      lastError = e instanceof Error ? e.message : String(e);
      return "failed";
    }
  }

  function load(): Promise<void> {
    inFlight ??= guarded(async () => {
      const [lkg, current] = await Promise.all([
        kvCall(`reading ${lkgKey}`, () => deps.kv.get(lkgKey)),
        kvCall(`reading ${currentKey}`, () => deps.kv.get(currentKey)),
      ]);
      checkedAt = deps.now();
      lkgRaw = lkg;
      if (lkg !== null) await consider(lkg, "lkg");
      return readCurrent(current);
    }).finally(() => (inFlight = undefined));
    return inFlight.then(() => undefined);
  }

  async function readCurrent(raw: string | null): Promise<Outcome> {
    if (raw === null) return "missing";
    const outcome = await consider(raw, "current");
    // Also retries a last-known-good write that failed earlier (lkgRaw then still differs).
    if (outcome === "applied" || outcome === "unchanged") await saveLastKnownGood();
    return outcome;
  }

  function readOnce(): Promise<Outcome> {
    inFlight ??= guarded(async () => {
      const raw = await kvCall(`reading ${currentKey}`, () => deps.kv.get(currentKey));
      checkedAt = deps.now();
      return readCurrent(raw);
    }).finally(() => (inFlight = undefined));
    return inFlight;
  }

  async function refreshUntil(version: number): Promise<void> {
    const delays = deps.retryDelaysMs ?? RETRY_DELAYS_MS;
    for (let attempt = 0; ; attempt++) {
      // A read already under way may predate the poke's write: let it finish, then read again.
      if (inFlight) await inFlight;
      const outcome = await readOnce();
      // Applied, or a new value seen and refused: done. Only "nothing new yet" (KV is eventually
      // consistent across locations) or a failed read is worth another try.
      if (outcome === "applied" || outcome === "refused" || applied?.payload.version === version || attempt >= delays.length) return;
      await sleep(delays[attempt]!);
    }
  }

  return {
    applied: () => applied,
    checkedAt: () => checkedAt,
    refreshing: () => inFlight !== undefined,
    lastError: () => lastError,
    load,
    refresh: () => readOnce().then(() => undefined),
    refreshUntil,
  };
}
