// How the engine writes down what it does: journal entries, events and status changes of one
// release, always carrying tenant, worker and release id, so the event stream, the journal and
// the release record tell the same story.
import type { EventType, Release, ReleaseStatus, Store } from "../store/index.ts";
import { toCboError } from "../kit/errors.ts";
import { J } from "./journal.ts";

export type Recorder = ReturnType<typeof createRecorder>;

export function createRecorder(store: Store, release: Pick<Release, "id" | "tenant" | "worker">, log: (line: string) => void) {
  return {
    id: release.id,
    journal(kind: string, target: string | null, data: Record<string, unknown> = {}): void {
      store.releases.journal(release.id, kind, target, data);
    },
    emit(type: EventType, target: string | null, data: Record<string, unknown> = {}): void {
      store.events.append({ tenant: release.tenant, type, release_id: release.id, worker: release.worker, ...(target === null ? {} : { target }), data });
    },
    status(status: ReleaseStatus, reason: string | null): void {
      store.releases.setStatus(release.id, status, reason);
      log(`${release.worker} ${release.id}: ${status}${reason ? ` (${reason})` : ""}`);
    },
    /** Terminal status, then the journal's last entry (a crash in between leaves a terminal record). */
    finish(status: ReleaseStatus, reason: string): Release {
      store.releases.setStatus(release.id, status, reason);
      store.releases.journal(release.id, J.finished, null, { status, reason });
      log(`${release.worker} ${release.id}: ${status} (${reason})`);
      return store.releases.get(release.id)!;
    },
    log(line: string): void {
      log(`${release.worker} ${release.id}: ${line}`);
    },
  };
}

/** `ERR_CF_UNAVAILABLE: Cloudflare API unreachable…` for reasons and journal entries (never secrets: errors carry none). */
export function describeError(e: unknown): string {
  const err = toCboError(e);
  return `${err.code}: ${err.message.split("\n")[0]}`;
}
