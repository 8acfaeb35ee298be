// The control board: what each running release waits for, and what people said about it (pause,
// resume, promote). What people said is kept in the store too (`holds`, 011_release_holds.sql) as
// it is said: a restarted daemon resumes a release that waited (recover.ts, resume.ts), and opens
// its entry from there, still paused if it was, its approvals granted, its timed pauses ending when
// they would have. What each target waits for now is memory only (the resumed release waits again).
//
// Per release:   running ──pause()──> paused ──resume()──> running
// Per target, between two steps (apply.ts calls holdAt before each step and at each `pause:` step):
//   stepping ──release paused──> waiting(manual) ──resume──> stepping
//   stepping ──{pause: approve}──> waiting(approval) ──promote──> stepping
//   stepping ──{pause: 10m}──> waiting(timer) ──10 min, or promote──> stepping
//   stepping ──gate needs data it cannot see yet──> waiting(data) ──data visible, or max wait──> stepping
// An approval is granted per (wave, pause): promoting while one target of a wave waits at its first
// approval lets its siblings pass that same approval too when they reach it.
import type { ReleaseControl, ReleaseWait, WaitKind } from "../../contract/index.ts";
import { CboError } from "../../kit/errors.ts";
import type { ReleaseHold } from "../../store/index.ts";

/** Where the board keeps what people said (the store's `holds`); a write it refuses refuses the request. */
export type HoldStore = {
  get(releaseId: string): ReleaseHold | undefined;
  put(releaseId: string, hold: ReleaseHold): void;
};

type Entry = {
  paused: boolean;
  pausedBy: string | null;
  waits: Map<string, ReleaseWait & { key: string | null }>;
  /** Approval and timer keys promoted (`<wave>:<pause index>`), with who promoted each. */
  granted: Map<string, string | null>;
  /** Who lifted the last pause (the manual waits it ended say so). */
  resumedBy: string | null;
  /** Each timed pause's end (`<key>/<target>` -> epoch ms), kept so a restart does not start it over. */
  timers: Map<string, number>;
  wake: Array<() => void>;
};

export type ControlBoard = ReturnType<typeof createControlBoard>;

export function createControlBoard(holds?: HoldStore) {
  const entries = new Map<string, Entry>();

  function held(e: Entry): ReleaseHold {
    return { paused: e.paused, pausedBy: e.pausedBy, granted: Object.fromEntries(e.granted), timers: Object.fromEntries(e.timers) };
  }
  /** Writes the entry as it would be after `change`, then makes the change: a refused write changes nothing. */
  function keep(id: string, e: Entry, change: (draft: Entry) => void): void {
    const draft: Entry = { ...e, granted: new Map(e.granted), timers: new Map(e.timers) };
    change(draft);
    holds?.put(id, held(draft));
    change(e);
  }

  function entry(id: string): Entry | undefined {
    return entries.get(id);
  }
  function notify(e: Entry): void {
    const wake = e.wake.splice(0);
    for (const w of wake) w();
  }
  function changed(e: Entry, signal: AbortSignal, ms?: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = ms === undefined ? undefined : setTimeout(done, Math.max(0, ms));
      signal.addEventListener("abort", done, { once: true });
      e.wake.push(done);
    });
  }
  function view(id: string): ReleaseControl {
    const e = entries.get(id);
    return {
      releaseId: id,
      paused: e?.paused ?? false,
      pausedBy: e?.pausedBy ?? null,
      waiting: e ? [...e.waits.values()].map(({ key: _key, ...w }) => w) : [],
    };
  }

  return {
    /** A release starts (or is recovered): it can be paused and promoted from now on. */
    open(id: string): void {
      if (entries.has(id)) return;
      // A release resumed after a restart picks up what was said before it.
      // (resume.ts checked the row reads; one that does not parse by now is treated as absent.)
      let h: ReleaseHold | undefined;
      try {
        h = holds?.get(id);
      } catch {
        h = undefined;
      }
      entries.set(id, {
        paused: h?.paused ?? false,
        pausedBy: h?.pausedBy ?? null,
        waits: new Map(),
        granted: new Map(Object.entries(h?.granted ?? {})),
        resumedBy: null,
        timers: new Map(Object.entries(h?.timers ?? {})),
        wake: [],
      });
    },
    close(id: string): void {
      const e = entries.get(id);
      if (!e) return;
      entries.delete(id);
      notify(e);
    },
    has: (id: string) => entries.has(id),
    view,

    pause(id: string, by: string | null): ReleaseControl {
      const e = mustRun(entry(id), id);
      if (e.paused) throw new CboError("ERR_CONFLICT", `Release ${id} is already paused (by ${e.pausedBy ?? "unknown"}).`);
      keep(id, e, (x) => {
        x.paused = true;
        x.pausedBy = by;
      });
      notify(e);
      return view(id);
    },
    resume(id: string, by: string | null = null): ReleaseControl {
      const e = mustRun(entry(id), id);
      if (!e.paused)
        throw new CboError("ERR_CONFLICT", `Release ${id} is not paused.`, {
          hint: e.waits.size > 0 ? `It waits for ${describeWaits(e)}: promote it with cbo release promote ${id}.` : undefined,
        });
      keep(id, e, (x) => {
        x.paused = false;
        x.pausedBy = null;
        x.resumedBy = by;
      });
      notify(e);
      return view(id);
    },
    /** Grants every approval and timer waited on now; the targets promoted. */
    promote(id: string, by: string | null = null): { control: ReleaseControl; targets: string[] } {
      const e = mustRun(entry(id), id);
      const waiting = [...e.waits.values()].filter((w) => (w.kind === "approval" || w.kind === "timer") && w.key !== null);
      if (waiting.length === 0)
        throw new CboError("ERR_CONFLICT", `Release ${id} is not waiting for an approval or a timed pause.`, {
          details: { releaseId: id, waiting: [...e.waits.values()].map((w) => ({ target: w.target, kind: w.kind })) },
          hint: e.paused ? `It is paused: resume it with cbo release resume ${id}.` : "Promote it once it reaches a `pause:` step.",
        });
      keep(id, e, (x) => {
        for (const w of waiting) x.granted.set(w.key!, by);
      });
      notify(e);
      return { control: view(id), targets: waiting.map((w) => w.target) };
    },

    /**
     * Holds a target while the release is paused; returns once it may go on (at once when not
     * paused). `onWait` is told when the wait starts and `onEnd` when it ends (events).
     */
    async holdWhilePaused(id: string, target: string, percent: number, signal: AbortSignal, on: WaitHooks): Promise<void> {
      const e = entries.get(id);
      if (!e?.paused) return;
      await waitFor(
        e,
        { target, kind: "manual", percent, key: null, until: null },
        () => !e.paused,
        signal,
        on,
        () => e.resumedBy,
      );
    },
    /** A `{pause: approve}` (ms undefined) or `{pause: <duration>}` step of one target. */
    async pauseStep(
      id: string,
      at: { target: string; percent: number; key: string; ms?: number },
      signal: AbortSignal,
      on: WaitHooks,
    ): Promise<void> {
      const e = entries.get(id);
      if (!e || e.granted.has(at.key)) return;
      // A timed pause begun before a restart ends when it would have.
      const timer = `${at.key}/${at.target}`;
      const end = at.ms === undefined ? null : (e.timers.get(timer) ?? Date.now() + at.ms);
      // Ended while the daemon was down: nothing left to wait.
      if (end !== null && end <= Date.now()) return;
      if (end !== null && !e.timers.has(timer)) {
        try {
          keep(id, e, (x) => x.timers.set(timer, end));
        } catch {
          // Not kept (the store refuses writes): the pause still runs; a restart would start it over.
          e.timers.set(timer, end);
        }
      }
      const kind: WaitKind = at.ms === undefined ? "approval" : "timer";
      await waitFor(
        e,
        { target: at.target, kind, percent: at.percent, key: at.key, until: end === null ? null : new Date(end).toISOString() },
        () => e.granted.has(at.key) || (end !== null && Date.now() >= end),
        signal,
        on,
        // Promoted: by whom; a timer that ran out: by nobody.
        () => e.granted.get(at.key) ?? null,
        end ?? undefined,
      );
    },
    /** The gate waits for analytics (lag) or traffic: shown while it lasts, nothing to promote. */
    dataWait(id: string, target: string, percent: number, until: string | null): () => void {
      const e = entries.get(id);
      if (!e) return () => {};
      e.waits.set(target, { target, kind: "data", percent, since: new Date().toISOString(), until, key: null });
      return () => {
        if (e.waits.get(target)?.kind === "data") e.waits.delete(target);
      };
    },
  };

  async function waitFor(
    e: Entry,
    w: Omit<ReleaseWait, "since"> & { key: string | null },
    done: () => boolean,
    signal: AbortSignal,
    on: WaitHooks,
    endedBy: () => string | null,
    deadline?: number,
  ): Promise<void> {
    const since = Date.now();
    e.waits.set(w.target, { ...w, since: new Date(since).toISOString() });
    on.started(w.kind, w.until);
    try {
      while (!done()) {
        signal.throwIfAborted();
        if (!entries.has(findId(e))) return;
        await changed(e, signal, deadline === undefined ? undefined : deadline - Date.now());
      }
      signal.throwIfAborted();
      on.ended(w.kind, Date.now() - since, endedBy());
    } finally {
      if (e.waits.get(w.target)?.kind === w.kind) e.waits.delete(w.target);
    }
  }
  function findId(e: Entry): string {
    for (const [id, x] of entries) if (x === e) return id;
    return "";
  }
}

export type WaitHooks = {
  started(kind: WaitKind, until: string | null): void;
  ended(kind: WaitKind, waitedMs: number, by: string | null): void;
};

function describeWaits(e: Entry): string {
  return [...e.waits.values()].map((w) => `${w.kind} on ${w.target}`).join(", ");
}

function mustRun(e: Entry | undefined, id: string): Entry {
  if (!e)
    throw new CboError("ERR_CONFLICT", `Release ${id} is not running in this daemon.`, {
      details: { releaseId: id },
      hint: "Only a running release can be paused, resumed or promoted (cbo status shows them).",
    });
  return e;
}
