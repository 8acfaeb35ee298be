// Idempotency-Key on mutating requests: a client that retries (a dropped connection, a timeout, an
// agent trying again) with the same key gets the first answer again instead of a second release.
//
// A key's states:  (none) --first request--> in_flight --success--> done (replayed for 24 h)
//                                                      \--failure--> (none: a failed request
//                                                         changed nothing, so the key is free)
// A request under a key that is
//  - done, same request: the stored status and body, with `idempotent-replayed: true`; the
//    handler does not run, so nothing is done or audited a second time;
//  - done or in flight, another request (method and path are in the key's identity; query and
//    body in its hash): 422 ERR_IDEMPOTENCY_MISMATCH;
//  - in flight in this daemon run, same request: 409 ERR_IDEMPOTENCY_IN_FLIGHT (retry later);
//  - in flight in an earlier run (the daemon stopped while handling it): 409 ERR_CONFLICT, since
//    its outcome is unknown and running it again might do it twice.
// Keys are per principal (a token, or the token behind a dashboard session). The request hash is
// the vault's keyed hash (a PUT of a secret carries its value), and an answer holding a secret (a
// new token) is not kept: a replay of it is refused, saying so.
import { createHash, randomUUID } from "node:crypto";
import { CboError } from "../kit/errors.ts";
import type { Store } from "../store/index.ts";

export const IDEMPOTENCY_HEADER = "idempotency-key";
export const REPLAYED_HEADER = "idempotent-replayed";
/** How long an answer is replayed. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
const KEY = /^[\x21-\x7e]{1,255}$/;

export type IdempotencyClaim =
  /** Run the request, then settle(). */
  | { kind: "run"; id: string }
  /** Answer this instead of running it. */
  | { kind: "replay"; status: number; contentType: string; body: string };

export type Idempotency = ReturnType<typeof createIdempotency>;

export function createIdempotency(deps: {
  store: Store;
  /** The keyed hash of a request's query and body (the vault's: a body may hold a secret value). */
  hash: (material: string) => string;
  now?: () => number;
}) {
  const now = deps.now ?? Date.now;
  const rows = deps.store.idempotency;
  // This daemon run: a row in flight under another owner was interrupted by a restart.
  const owner = randomUUID();
  let lastPrune = 0;

  function prune(t: number): void {
    // At most once a minute, and only rows past their 24 h: one indexed DELETE.
    if (t - lastPrune < 60_000) return;
    lastPrune = t;
    rows.prune(t - IDEMPOTENCY_TTL_MS);
  }

  return {
    /** The header's key, or undefined without one; ERR_VALIDATION when it is malformed. */
    keyOf(header: string | undefined): string | undefined {
      if (header === undefined) return undefined;
      if (!KEY.test(header))
        throw new CboError("ERR_VALIDATION", "The Idempotency-Key header must be 1 to 255 visible ASCII characters.", {
          hint: "Send a random value per operation (e.g. a UUID) and the same value when retrying it.",
        });
      return header;
    },

    /** Claims the key for this request, or says what to answer instead (see the states above). */
    claim(r: { principal: string; method: string; path: string; key: string; query: string; body: string }): IdempotencyClaim {
      const t = now();
      prune(t);
      const id = createHash("sha256")
        .update(JSON.stringify([r.principal, r.method, r.path, r.key]))
        .digest("hex");
      const requestHash = deps.hash(`${r.query}\n${r.body}`);
      let row = rows.get(id);
      if (row && row.created_at < t - IDEMPOTENCY_TTL_MS) {
        rows.remove(id);
        row = undefined;
      }
      if (!row) {
        if (rows.begin({ id, principal: r.principal, method: r.method, path: r.path, request_hash: requestHash, owner, created_at: t }))
          return { kind: "run", id };
        row = rows.get(id)!;
      }
      const details = { since: new Date(row.created_at).toISOString() };
      if (row.request_hash !== requestHash)
        throw new CboError(
          "ERR_IDEMPOTENCY_MISMATCH",
          `This Idempotency-Key was used for a different ${r.method} ${r.path} request (another query or body) within 24 h.`,
          { details, hint: "Use a new key for a new request; reuse a key only to retry the very same request." },
        );
      if (row.state === "in_flight") {
        if (row.owner === owner)
          throw new CboError("ERR_IDEMPOTENCY_IN_FLIGHT", "The first request with this Idempotency-Key is still being handled.", {
            details,
            hint: "Retry in a moment with the same key: you will get its answer.",
          });
        throw new CboError(
          "ERR_CONFLICT",
          "The daemon stopped while handling the first request with this Idempotency-Key; whether it took effect is unknown.",
          { details, hint: "Check the state (e.g. cbo status, GET /v1/releases), then send the request again with a new key if needed." },
        );
      }
      if (row.withheld === 1 || row.body === null)
        throw new CboError(
          "ERR_CONFLICT",
          "The request with this Idempotency-Key succeeded already; its answer held a secret shown only once, so it is not replayed.",
          { details: { ...details, status: row.status }, hint: "List what exists (e.g. GET /v1/tokens) and revoke what you cannot use." },
        );
      return { kind: "replay", status: row.status ?? 200, contentType: row.content_type ?? "application/json", body: row.body };
    },

    /** The claimed request ended: a success is kept for replay (its body unless it holds a secret), a failure frees the key. */
    settle(id: string, outcome: { ok: true; status: number; contentType: string; body: string; withhold: boolean } | { ok: false }): void {
      if (!outcome.ok) return rows.remove(id);
      rows.complete(id, {
        status: outcome.status,
        contentType: outcome.contentType,
        body: outcome.withhold ? null : outcome.body,
        withheld: outcome.withhold,
      });
    },
  };
}
