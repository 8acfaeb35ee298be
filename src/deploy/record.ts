// How the engine writes down what it does: journal entries, events and status changes of one
// release, always carrying tenant, worker and release id, so the event stream, the journal and
// the release record tell the same story.
//
// A write the store refuses (a full disk, a broken file) throws a RecordFailure: the engine never
// shifts traffic it could not journal first, so such a failure stops a release like a failed gate,
// and its rollback waits until the journal can be written again (src/deploy/owed.ts).
import type { EventPayload, EventType, NewEvent } from "../contract/index.ts";
import type { Release, ReleaseStatus, Store } from "../store/index.ts";
import { toCboError, type CboError } from "../kit/errors.ts";
import { J } from "./journal.ts";
import type { Logger } from "../telemetry/index.ts";

export type Recorder = ReturnType<typeof createRecorder>;

/** An event to emit later, its payload typed by its type (a release's end: owed.ts's finishRecorded). */
export type PendingEvent = { [T in EventType]: [T, EventPayload<T>] }[EventType];

/** The store refused a write of the engine's (journal entry, event, status, catalog row). */
export class RecordFailure extends Error {
  readonly error: CboError;
  constructor(what: string, cause: unknown) {
    const error = toCboError(cause);
    super(`could not record ${what}: ${error.code}: ${error.message.split("\n")[0]}`, { cause });
    this.name = "RecordFailure";
    this.error = error;
  }
}

/** Runs one store write of the engine's; what the store throws becomes a RecordFailure. */
export function recording<T>(what: string, write: () => T): T {
  try {
    return write();
  } catch (e) {
    if (e instanceof RecordFailure) throw e;
    throw new RecordFailure(what, e);
  }
}

export function createRecorder(store: Store, release: Pick<Release, "id" | "tenant" | "worker">, log: Logger) {
  const rec = {
    id: release.id,
    journal(kind: string, target: string | null, data: Record<string, unknown> = {}): void {
      recording(`journal entry ${kind}`, () => store.releases.journal(release.id, kind, target, data));
    },
    emit<T extends EventType>(type: T, target: string | null, data: EventPayload<T>): void {
      const event = {
        tenant: release.tenant,
        type,
        release_id: release.id,
        worker: release.worker,
        ...(target === null ? {} : { target }),
        data,
      } as NewEvent;
      recording(`event ${type}`, () => store.events.append(event));
    },
    status(status: ReleaseStatus, reason: string | null): void {
      recording(`status ${status}`, () => store.releases.setStatus(release.id, status, reason));
      log.info(`${release.worker} ${release.id}: ${status}${reason ? ` (${reason})` : ""}`);
    },
    /** emit() of a PendingEvent (the pairing of type and payload is the PendingEvent's). */
    emitPending([type, data]: PendingEvent): void {
      rec.emit(type, null, data as never);
    },
    /** Terminal status, then the journal's last entry (a crash in between leaves a terminal record). */
    finish(status: ReleaseStatus, reason: string): Release {
      recording(`status ${status}`, () => store.releases.setStatus(release.id, status, reason));
      recording(`journal entry ${J.finished}`, () => store.releases.journal(release.id, J.finished, null, { status, reason }));
      log.info(`${release.worker} ${release.id}: ${status} (${reason})`);
      return store.releases.get(release.id)!;
    },
    /** A write that only tells (an event, a status on the way to rolling back): logged when the store refuses it. */
    tryTo(write: () => void): boolean {
      try {
        write();
        return true;
      } catch (e) {
        log.warn(`${release.worker} ${release.id}: ${describeError(e)}`);
        return false;
      }
    },
    log(line: string): void {
      log.info(`${release.worker} ${release.id}: ${line}`);
    },
  };
  return rec;
}

/** `ERR_CF_UNAVAILABLE: Cloudflare API unreachable…` for reasons and journal entries (never secrets: errors carry none). */
export function describeError(e: unknown): string {
  if (e instanceof RecordFailure) return `${e.error.code}: ${e.message}`;
  const err = toCboError(e);
  return `${err.code}: ${err.message.split("\n")[0]}`;
}
