// Following one release (or rollback) from its creation to its end over the event stream.
//
// States: locate (find the release's first event, so the stream starts just before it instead of
// replaying the whole log) -> streaming (print each event of this release) -> confirming (a
// terminal-looking event arrived: read the record until its status is terminal) -> done.
// A poll of the record while the stream is quiet is the safety net for an end whose event was
// missed (say the daemon restarted and recovered the release under another event name).
import { sleep } from "../kit/backoff.ts";
import type { ApiClient } from "./api-client.ts";
import type { ApiEvent, ApiRelease } from "./api-schemas.ts";
import { followEvents } from "./event-stream.ts";

export const TERMINAL_STATUSES: ReadonlySet<string> = new Set(["succeeded", "rolled_back", "failed", "aborted"]);

/** Events that end a record of this kind, with the status they stand for. */
const ENDS: Record<string, Record<string, string>> = {
  release: { "release.succeeded": "succeeded", "release.rolled_back": "rolled_back", "release.failed": "failed", "release.aborted": "aborted" },
  rollback: {
    "rollback.completed": "succeeded",
    "rollback.failed": "failed",
    "release.succeeded": "succeeded",
    "release.failed": "failed",
    "release.aborted": "aborted",
  },
};

/** The status an event claims for a record of this kind, when it is one of the kind's ends. */
export function endStatus(kind: string, eventType: string): string | undefined {
  return (ENDS[kind] ?? ENDS.release!)[eventType];
}

/**
 * Exit code for a finished record: 0 it did what was asked; 1 the version failed its gate and was
 * rolled back, or someone aborted it (the user's to look at); 2 the system failed: the edge
 * refused or was unreachable (the engine rolled back with `kind: "edge"`), a rollback failed, or
 * the record is somehow not finished.
 */
export function exitCodeFor(r: Pick<ApiRelease, "status">, events: Array<Pick<ApiEvent, "type" | "data">> = []): number {
  switch (r.status) {
    case "succeeded":
      return 0;
    case "rolled_back": {
      const why = events.findLast((e) => e.type === "release.rolling_back")?.data.kind;
      return why === "edge" ? 2 : 1;
    }
    case "aborted":
      return 1;
    default:
      return 2;
  }
}

export type FollowResult = { release: ApiRelease; events: ApiEvent[] };

export type FollowReleaseOptions = {
  onEvent?: (e: ApiEvent) => void;
  /** How often to re-read the record while no event arrives. */
  pollMs?: number;
  signal?: AbortSignal;
};

/** Id just before the release's first event: where its stream starts. 0 when it has none yet. */
async function locate(client: ApiClient, releaseId: string): Promise<number> {
  for (let i = 0; i < 10; i++) {
    const first = await client.events({ release: releaseId, limit: 1 });
    if (first[0]) return first[0].id - 1;
    await sleep(100);
  }
  return 0;
}

export async function followRelease(client: ApiClient, start: ApiRelease, opts: FollowReleaseOptions = {}): Promise<FollowResult> {
  const events: ApiEvent[] = [];
  const stop = new AbortController();
  const onOuterAbort = () => stop.abort();
  opts.signal?.addEventListener("abort", onOuterAbort, { once: true });
  let final: ApiRelease | undefined;
  let lastActivity = Date.now();
  let polling = false;
  let grace: NodeJS.Timeout | undefined;

  const readTerminal = async (): Promise<ApiRelease | undefined> => {
    const { release } = await client.getRelease(start.id);
    return TERMINAL_STATUSES.has(release.status) ? release : undefined;
  };

  // The record may be written a moment after its end event: re-read it briefly, then trust the event.
  const confirm = async (claimed: string): Promise<ApiRelease> => {
    for (let i = 0; i < 20; i++) {
      const done = await readTerminal();
      if (done) return done;
      await sleep(100);
    }
    const { release } = await client.getRelease(start.id);
    return { ...release, status: claimed };
  };

  const poll = setInterval(() => {
    if (polling || final || Date.now() - lastActivity < (opts.pollMs ?? 2_000)) return;
    polling = true;
    readTerminal()
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
    const after = await locate(client, start.id);
    for await (const e of followEvents(client, after, { signal: stop.signal, onReconnect: () => (lastActivity = 0) })) {
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
  if (!final) final = (await client.getRelease(start.id)).release;
  return { release: final, events };
}
