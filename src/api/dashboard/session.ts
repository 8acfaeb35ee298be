// Dashboard sessions, in memory only: a daemon restart logs everyone out, and no session id or
// CSRF token ever reaches the disk. A session is created by logging in with an API token and then
// acts with that token's principal (app.ts re-checks the token on every use: revoking it ends its
// sessions).
//
// A session's states:
//   live --(no use for idleMs | older than maxAgeMs | logout | its token revoked or expired)--> gone
// Each use of a live session moves its idle deadline, never its absolute one.
//
// Sessions are keyed by a hash of their id: a lookup's timing then says nothing about how much of
// a guessed id was right. Memory is bounded by maxSessions: the least recently used session goes first.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Principal } from "../../security/index.ts";

export type SessionOptions = {
  /** A session unused this long ends (default 30 min). */
  idleMs?: number;
  /** A session ends this long after login however much it is used (default 12 h). */
  maxAgeMs?: number;
  /** Sessions kept at most (default 1,000). */
  maxSessions?: number;
  now?: () => number;
};

export type Session = {
  /** The cookie value (256 random bits); only its hash keys the store. */
  readonly id: string;
  /** Required in the x-csrf-token header of every mutation made with this session. */
  readonly csrf: string;
  readonly principal: Principal;
  readonly createdAt: number;
  lastUsed: number;
};

export type SessionStore = ReturnType<typeof createSessionStore>;

const key = (id: string) => createHash("sha256").update(id).digest("hex");
/** A short, non-reversible name for a session in audit entries and logs (never its id). */
export const sessionRef = (id: string) => key(id).slice(0, 16);

export function createSessionStore(opts: SessionOptions = {}) {
  const idleMs = opts.idleMs ?? 30 * 60_000;
  const maxAgeMs = opts.maxAgeMs ?? 12 * 3_600_000;
  const maxSessions = opts.maxSessions ?? 1_000;
  const now = opts.now ?? Date.now;
  // Map order = least recently used first (a use re-inserts).
  const sessions = new Map<string, Session>();
  const ended = new Set<(id: string) => void>();
  const end = (k: string) => {
    const s = sessions.get(k);
    if (!s) return false;
    sessions.delete(k);
    for (const fn of ended) fn(s.id);
    return true;
  };

  const expired = (s: Session, t: number) => t - s.lastUsed >= idleMs || t - s.createdAt >= maxAgeMs;

  function sweep(t: number): void {
    for (const [k, s] of sessions) if (expired(s, t)) end(k);
    for (const k of sessions.keys()) {
      if (sessions.size < maxSessions) return;
      end(k);
    }
  }

  return {
    create(principal: Principal): Session {
      const t = now();
      sweep(t);
      const s: Session = {
        id: randomBytes(32).toString("base64url"),
        csrf: randomBytes(32).toString("base64url"),
        principal,
        createdAt: t,
        lastUsed: t,
      };
      sessions.set(key(s.id), s);
      return s;
    },
    /** The live session with this id (and a use of it), or undefined. */
    use(id: string): Session | undefined {
      const k = key(id);
      const s = sessions.get(k);
      if (!s) return undefined;
      const t = now();
      if (expired(s, t)) return void end(k);
      sessions.delete(k);
      s.lastUsed = t;
      sessions.set(k, s);
      return s;
    },
    /** The live session with this id, without counting as a use (an open event stream is not activity). */
    peek(id: string): Session | undefined {
      const k = key(id);
      const s = sessions.get(k);
      if (!s) return undefined;
      return expired(s, now()) ? void end(k) : s;
    },
    /** Calls `fn` with the id of every session that ends (logout, expiry, eviction); returns the unsubscribe. */
    onEnd(fn: (id: string) => void): () => void {
      ended.add(fn);
      return () => ended.delete(fn);
    },
    /** When the session ends if it is not used again (ms since the epoch). */
    expiresAt(s: Session): number {
      return Math.min(s.lastUsed + idleMs, s.createdAt + maxAgeMs);
    },
    destroy(id: string): boolean {
      return end(key(id));
    },
    /** Whether `given` is this session's CSRF token (constant time). */
    csrfMatches(s: Session, given: string | undefined): boolean {
      if (!given) return false;
      const a = Buffer.from(s.csrf);
      const b = Buffer.from(given);
      return a.length === b.length && timingSafeEqual(a, b);
    },
    size: () => sessions.size,
  };
}
