// Reads of a target that plan, diff and status share. Each costs a request from the token's budget
// (960 per 5 minutes, shared by every target on the token), and a person running plan, diff and
// status in a row reads the same deployments, versions, resources and settings each time. So,
// per target client:
//
//   a read (list*/get*/find*, a SELECT on D1, an assets session) asked by a person (interactive
//   call scope):  answered within ttlMs ──> the answer again (counted as reused)
//                 the same read in flight for another person ──> joins it (single flight)
//                 otherwise ──> sent, its answer kept for ttlMs (the edge's 4xx too: a Worker
//                 not deployed yet reads as a 404 every time; a 429, 5xx or timeout is not kept)
//   the same read for the daemon's own work (a release, drift) ──> always sent (level-based: it
//                 acts on what it reads); its answer is kept for people
//   a plan's or diff's deployment read (revalidate) ──> always sent; when it differs from the one
//                 kept, the target changed by other means: everything kept is dropped
//   any other call (a write: upload, deploy, secret, settings, KV, rollback) ──> everything kept
//                 is dropped, when it starts and when it ends, and a read in flight meanwhile is
//                 not kept: nothing read before a change of the daemon's is shown after it
//
// A shared read is cancelled only when every person waiting for it has gone (their signals).
import { currentCallScope, withCallScope, type CallScope, type CloudflareClient } from "../cloudflare/index.ts";
import { isCboError } from "../kit/errors.ts";

/** How long a read is reused for people (ms): long enough for plan, diff, status in a row. */
export const DEFAULT_REUSE_MS = 5_000;

/** An answer kept: a value, or the edge's definite refusal (a 404 for a Worker not deployed yet). */
type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };
type Kept = { at: number; gen: number; outcome: Outcome; requests: number };
type Flight = {
  key: string;
  gen: number;
  promise: Promise<unknown>;
  controller: AbortController;
  users: number;
  /** Requests it sent (known once settled). */
  requests: number;
  settled: boolean;
};

export type ReadReuse = {
  /** The client whose reads are reused for people and whose writes drop what is kept. */
  wrap(client: CloudflareClient): CloudflareClient;
  /** Drops everything kept (a change made by other means than this client). */
  invalidate(): void;
};

/**
 * Calls that neither change the target nor are worth keeping (a token, a moving bookmark,
 * analytics), and forAccount: another account's client is another target's business.
 */
const PASS_THROUGH = new Set<PropertyKey>([
  "budget",
  "accountId",
  "forAccount",
  "verifyToken",
  "listAccounts",
  "listMemberships",
  "getTunnelToken",
  "getD1Bookmark",
  "listTails",
  "workersInvocationsByMinute",
]);

function isRead(method: string, args: unknown[]): boolean {
  if (method === "createAssetsUploadSession") return true; // asks which files the account lacks; changes nothing
  if (method === "queryD1" || method === "rawD1") return isSelect(args[1]);
  return /^(list|get|find)[A-Z]/.test(method);
}

// One statement that only reads (the migrations table probe and read of a plan).
function isSelect(query: unknown): boolean {
  const sql = typeof query === "string" ? query : (query as { sql?: unknown } | undefined)?.sql;
  if (typeof sql !== "string") return false;
  const body = sql.trim().replace(/;\s*$/, "");
  return /^select\s/i.test(body) && !body.includes(";");
}

// The edge's own answer (4xx other than 429: "no such Worker"), as final as a value; anything
// else (budget, timeout, 5xx, a cancelled read) says nothing about the target and is not kept.
function isDefinite(error: unknown): boolean {
  const status = (error as { details?: { status?: unknown } } | undefined)?.details?.status;
  return isCboError(error) && typeof status === "number" && status >= 400 && status < 500 && status !== 429;
}

/** The read that says what a target serves: a plan or diff makes it anew (CallScope.revalidate). */
const FINGERPRINT = "listDeployments ";

function sameOutcome(a: Outcome, b: Outcome): boolean {
  if (a.ok !== b.ok) return false;
  if (!a.ok || !b.ok) return true;
  try {
    return JSON.stringify(a.value) === JSON.stringify(b.value);
  } catch {
    return false;
  }
}

/** A deep copy, or the value itself (not ok) when it holds something that cannot be copied. */
function copyOf<T>(value: T): { ok: boolean; value: T } {
  try {
    return { ok: true, value: structuredClone(value) };
  } catch {
    return { ok: false, value };
  }
}

function replay(outcome: Outcome): Promise<unknown> {
  return outcome.ok ? Promise.resolve(copyOf(outcome.value).value) : Promise.reject(outcome.error);
}

export function createReadReuse(opts: { ttlMs?: number; now?: () => number } = {}): ReadReuse {
  const ttlMs = opts.ttlMs ?? DEFAULT_REUSE_MS;
  const now = opts.now ?? Date.now;
  const kept = new Map<string, Kept>();
  const flights = new Map<string, Flight>();
  let gen = 0;

  function invalidate(): void {
    gen++;
    kept.clear();
    flights.clear();
  }

  // Kept answers are copies (a caller may change what it got); expired ones go as new ones come.
  // A deployment read that differs from the one kept says the target changed by other means (a
  // `wrangler deploy`, a dashboard edit): nothing kept from before is used again.
  function keep(key: string, at: number, outcome: Outcome, requests: number): void {
    if (at !== gen) return;
    const before = key.startsWith(FINGERPRINT) ? kept.get(key) : undefined;
    if (before && !sameOutcome(before.outcome, outcome)) invalidate();
    if (!outcome.ok && !isDefinite(outcome.error)) return;
    const t = now();
    for (const [k, e] of kept) if (t - e.at > ttlMs) kept.delete(k);
    if (!outcome.ok) return void kept.set(key, { at: t, gen, outcome, requests });
    const copy = copyOf(outcome.value);
    if (copy.ok) kept.set(key, { at: t, gen, outcome: { ok: true, value: copy.value }, requests });
  }

  function read(key: string, call: () => Promise<unknown>): Promise<unknown> {
    const scope = currentCallScope();
    if (scope?.priority !== "interactive") return fill(key, call);
    const hit = scope.revalidate && key.startsWith(FINGERPRINT) ? undefined : kept.get(key);
    if (hit && hit.gen === gen && now() - hit.at <= ttlMs) {
      if (scope.tally) scope.tally.reused += hit.requests;
      return replay(hit.outcome);
    }
    let flight = flights.get(key);
    let joined = true;
    if (!flight || flight.gen !== gen) {
      flight = fly(key, call, scope);
      joined = false;
    }
    return join(flight, scope, joined);
  }

  /** The daemon's own read: always sent, its answer kept for people. */
  async function fill(key: string, call: () => Promise<unknown>): Promise<unknown> {
    const at = gen;
    const tally = { sent: 0, reused: 0 };
    const outer = currentCallScope();
    let outcome: Outcome;
    try {
      outcome = { ok: true, value: await withCallScope({ ...outer, tally }, call) };
    } catch (error) {
      outcome = { ok: false, error };
    }
    if (outer?.tally) outer.tally.sent += tally.sent;
    keep(key, at, outcome, tally.sent);
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }

  // A person's read, sent once for everyone who asks it meanwhile, with its own signal: aborted
  // when the last of them leaves.
  function fly(key: string, call: () => Promise<unknown>, scope: CallScope): Flight {
    const controller = new AbortController();
    const tally = { sent: 0, reused: 0 };
    const flight: Flight = { key, gen, promise: Promise.resolve(), controller, users: 0, requests: 0, settled: false };
    const settle = (outcome: Outcome) => {
      flight.settled = true;
      flight.requests = tally.sent;
      if (flights.get(key) === flight) flights.delete(key);
      keep(key, flight.gen, outcome, tally.sent);
    };
    flight.promise = withCallScope({ ...scope, signal: controller.signal, tally }, call).then(
      (value) => {
        settle({ ok: true, value });
        return value;
      },
      (error: unknown) => {
        settle({ ok: false, error });
        throw error;
      },
    );
    // A flight everyone left before it was joined (the request's connection broke before the read
    // began) is aborted with nobody awaiting it: its rejection, kept by settle(), must not go
    // unhandled, which ends the daemon process.
    flight.promise.catch(() => {});
    flights.set(key, flight);
    return flight;
  }

  function join(flight: Flight, scope: CallScope, joined: boolean): Promise<unknown> {
    flight.users++;
    const signal = scope.signal;
    return new Promise((resolve, reject) => {
      let left = false;
      const leave = () => {
        if (left) return false;
        left = true;
        signal?.removeEventListener("abort", onAbort);
        flight.users--;
        return true;
      };
      const onAbort = () => {
        if (!leave()) return;
        reject(signal!.reason);
        if (flight.users === 0 && !flight.settled) {
          flight.controller.abort(signal!.reason);
          if (flights.get(flight.key) === flight) flights.delete(flight.key);
        }
      };
      // What the read cost goes to this person's tally: sent by it, or reused from another's.
      const count = () => {
        if (!scope.tally) return;
        if (joined) scope.tally.reused += flight.requests;
        else scope.tally.sent += flight.requests;
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });
      flight.promise.then(
        (value) => {
          if (!leave()) return;
          count();
          resolve(joined ? copyOf(value).value : value);
        },
        (e: unknown) => {
          if (!leave()) return;
          count();
          reject(e);
        },
      );
    });
  }

  function wrap(client: CloudflareClient): CloudflareClient {
    return new Proxy(client, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver);
        if (typeof prop === "symbol" || typeof v !== "function") return v;
        if (PASS_THROUGH.has(prop)) return v;
        const method = prop;
        return (...args: unknown[]) => {
          if (isRead(method, args)) {
            const key = `${method} ${JSON.stringify(args)}`;
            return read(key, () => (v as (...a: unknown[]) => Promise<unknown>)(...args));
          }
          invalidate();
          return Promise.resolve()
            .then(() => (v as (...a: unknown[]) => Promise<unknown>)(...args))
            .finally(invalidate);
        };
      },
    });
  }

  return { wrap, invalidate };
}

/** One ReadReuse per account and API: targets sharing an account see each other's writes. */
export type ReadReuseRegistry = { of(api: string, accountId: string): ReadReuse };

export function createReadReuseRegistry(opts: { ttlMs?: number; now?: () => number } = {}): ReadReuseRegistry {
  const all = new Map<string, ReadReuse>();
  return {
    of(api, accountId) {
      const key = `${api} ${accountId}`;
      let r = all.get(key);
      if (!r) all.set(key, (r = createReadReuse(opts)));
      return r;
    },
  };
}
