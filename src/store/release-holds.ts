// The control board's state of each running release (011_release_holds.sql): written on every
// pause, resume, promote and timed pause, read when a restarted daemon resumes the release. Rows
// read back are checked (JSON from SQLite); a row that does not parse is treated as absent by the
// caller's choice, never guessed.
import * as z from "zod";
import { nowIso, type Db } from "./db.ts";

export const ReleaseHoldSchema = z.object({
  paused: z.boolean(),
  pausedBy: z.string().nullable(),
  /** Approval and timer keys promoted (`<wave>:<pause index>`), with who promoted each. */
  granted: z.record(z.string(), z.string().nullable()),
  /** Each timed pause's end (`<key>/<target>` -> epoch ms), so a restart does not start it over. */
  timers: z.record(z.string(), z.number()),
});
export type ReleaseHold = z.infer<typeof ReleaseHoldSchema>;

type Row = { paused: number; paused_by: string | null; granted: string; timers: string };

export function createReleaseHoldStore(db: Db) {
  return {
    get(releaseId: string): ReleaseHold | undefined {
      const r = db.prepare("SELECT paused, paused_by, granted, timers FROM release_holds WHERE release_id = ?").get(releaseId) as
        | Row
        | undefined;
      if (!r) return undefined;
      return ReleaseHoldSchema.parse({
        paused: r.paused === 1,
        pausedBy: r.paused_by,
        granted: JSON.parse(r.granted),
        timers: JSON.parse(r.timers),
      });
    },
    put(releaseId: string, h: ReleaseHold): void {
      db.prepare(
        `INSERT INTO release_holds (release_id, paused, paused_by, granted, timers, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (release_id) DO UPDATE SET paused = excluded.paused, paused_by = excluded.paused_by,
           granted = excluded.granted, timers = excluded.timers, updated_at = excluded.updated_at`,
      ).run(releaseId, h.paused ? 1 : 0, h.pausedBy, JSON.stringify(h.granted), JSON.stringify(h.timers), nowIso());
    },
    drop(releaseId: string): void {
      db.prepare("DELETE FROM release_holds WHERE release_id = ?").run(releaseId);
    },
  };
}
export type ReleaseHoldStore = ReturnType<typeof createReleaseHoldStore>;
