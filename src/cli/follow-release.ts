// Following one release (or rollback) from its creation to its end over the event stream.
//
// States: locate (find the release's first event, so the stream starts just before it instead of
// replaying the whole log) -> streaming (print each event of this release) -> confirming (a
// terminal-looking event arrived: read the record until its status is terminal) -> done.
// A poll of the record while the stream is quiet is the safety net for an end whose event was
// missed (say the daemon restarted and recovered the release under another event name).
// The daemon may go away meanwhile (killed, restarted): the release is then finished by the next
// daemon's recovery, so the follow waits for it to come back (up to `giveUpMs`) and ends with that
// outcome, whoever finished it.
import { sleep } from "../kit/backoff.ts";
import { type CboError, toCboError } from "../kit/errors.ts";
import type { DaemonClient } from "../client/index.ts";
import { isTerminal, type AnyEvent, type Release, type ReleaseStatus } from "../contract/index.ts";
import { exitForOutcome } from "./exit-codes.ts";

/** Events that end a record of this kind, with the status they stand for. */
const ENDS: Record<string, Record<string, ReleaseStatus>> = {
  release: {
    "release.succeeded": "succeeded",
    "release.rolled_back": "rolled_back",
    "release.failed": "failed",
    "release.aborted": "aborted",
  },
  rollback: {
    "rollback.completed": "succeeded",
    "rollback.failed": "failed",
    "release.succeeded": "succeeded",
    "release.failed": "failed",
    "release.aborted": "aborted",
  },
};

/** The status an event claims for a record of this kind, when it is one of the kind's ends. */
export function endStatus(kind: string, eventType: string): ReleaseStatus | undefined {
  return (ENDS[kind] ?? ENDS.release!)[eventType];
}

/** Exit code for a record as the follow left it: its outcome's (exit-codes.ts), whoever finished it. */
export function exitCodeFor(r: { status: string }): number {
  return exitForOutcome(r.status);
}

/** How long a follow waits for a daemon that went away (a restart, a crash and its supervisor). */
export const DAEMON_AWAY_GIVE_UP_MS = 10 * 60_000;

export type FollowResult = { release: Release; events: AnyEvent[] };

export type FollowReleaseOptions = {
  onEvent?: (e: AnyEvent) => void;
  /** How often to re-read the record while no event arrives. */
  pollMs?: number;
  signal?: AbortSignal;
  /** How long the daemon may stay away before the follow gives up (ERR_IO); default 10 min. */
  giveUpMs?: number;
  /** The daemon stopped answering ("lost"), or answers again ("back"). */
  onConnection?: (state: "lost" | "back", err?: CboError) => void;
};

/** A daemon that does not answer (connection refused, reset, timed out): it may come back. */
const away = (e: unknown) => toCboError(e).code === "ERR_IO";

/** Id just before the release's first event: where its stream starts. 0 when it has none yet. */
async function locate(client: DaemonClient, releaseId: string, patiently: <T>(read: () => Promise<T>) => Promise<T>): Promise<number> {
  for (let i = 0; i < 10; i++) {
    const first = (await patiently(() => client.events({ release: releaseId, limit: 1 }))).items[0];
    if (first) return first.id - 1;
    await sleep(100);
  }
  return 0;
}

export async function followRelease(client: DaemonClient, start: Release, opts: FollowReleaseOptions = {}): Promise<FollowResult> {
  const events: AnyEvent[] = [];
  const stop = new AbortController();
  const onOuterAbort = () => stop.abort();
  opts.signal?.addEventListener("abort", onOuterAbort, { once: true });
  let final: Release | undefined;
  let lastActivity = Date.now();
  let polling = false;
  let grace: NodeJS.Timeout | undefined;
  const giveUpMs = opts.giveUpMs ?? DAEMON_AWAY_GIVE_UP_MS;
  let lostSince: number | undefined;
  const lost = (err: CboError) => {
    if (lostSince !== undefined) return;
    lostSince = Date.now();
    opts.onConnection?.("lost", err);
  };
  const back = () => {
    if (lostSince === undefined) return;
    lostSince = undefined;
    opts.onConnection?.("back");
  };
  /** One read of the daemon, retried while it is away, for as long as the follow waits for it. */
  const patiently = async <T>(read: () => Promise<T>): Promise<T> => {
    for (let attempt = 0; ; attempt++) {
      try {
        const out = await read();
        back();
        return out;
      } catch (e) {
        if (!away(e) || stop.signal.aborted) throw e;
        lost(toCboError(e));
        if (Date.now() - lostSince! > giveUpMs) throw e;
        await sleep(Math.min(2_000, 200 * 2 ** attempt), stop.signal).catch(() => undefined);
      }
    }
  };

  const readTerminal = async (): Promise<Release | undefined> => {
    const { release } = await patiently(() => client.getRelease(start.id));
    return isTerminal(release.status) ? release : undefined;
  };

  // The record may be written a moment after its end event: re-read it briefly, then trust the event.
  const confirm = async (claimed: ReleaseStatus): Promise<Release> => {
    for (let i = 0; i < 20; i++) {
      const done = await readTerminal();
      if (done) return done;
      await sleep(100);
    }
    const { release } = await patiently(() => client.getRelease(start.id));
    return { ...release, status: claimed };
  };

  const poll = setInterval(() => {
    if (polling || final || Date.now() - lastActivity < (opts.pollMs ?? 2_000)) return;
    polling = true;
    client
      .getRelease(start.id)
      .then(({ release }) => {
        back();
        return isTerminal(release.status) ? release : undefined;
      })
      .then((done) => {
        if (!done) return;
        // Give the stream a moment to deliver the end event before cutting it.
        grace ??= setTimeout(() => {
          final ??= done;
          stop.abort();
        }, 500);
      })
      .catch(() => undefined)
      .finally(() => {
        polling = false;
        lastActivity = Date.now();
      });
  }, 250);

  try {
    const after = await locate(client, start.id, patiently);
    // The daemon answered just now: a stream that cannot connect yet means it went away, not that
    // it was never there. Each reconnection re-reads the record (the poll) for an end it missed.
    const stream = client.followEvents(after, {
      signal: stop.signal,
      connected: true,
      giveUpMs,
      onReconnect: () => (lastActivity = 0),
      onLost: lost,
      onOpen: back,
    });
    for await (const e of stream) {
      if (e.release_id !== start.id) continue;
      lastActivity = Date.now();
      events.push(e);
      opts.onEvent?.(e);
      // Only this kind's end events end the follow: a record that turns terminal meanwhile is
      // left to the poll, which waits for the end event a moment so that it is printed too.
      const claimed = endStatus(start.kind, e.type);
      if (claimed === undefined) continue;
      final = await confirm(claimed);
      break;
    }
  } finally {
    clearInterval(poll);
    clearTimeout(grace);
    opts.signal?.removeEventListener("abort", onOuterAbort);
    stop.abort();
  }
  if (!final) final = (await patiently(() => client.getRelease(start.id))).release;
  return { release: final, events };
}
