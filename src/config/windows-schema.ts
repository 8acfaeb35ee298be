// Release windows (orchestrator.yaml `windows:`): when releases may start. A release asked for
// inside a `deny` window, or outside every `allow` window when there are any, is refused unless it
// overrides with a reason (audited). A window is weekly, from a day and time to a day and time
// (`Fri 16:00` → `Mon 08:00`, wrapping over the week's end), or one-off between two dates
// (`2026-12-24 00:00` → `2026-12-27 00:00`, a freeze), in an IANA time zone (default UTC).
import * as z from "zod";

const WEEKLY = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([01]\d|2[0-3]):([0-5]\d)$/;
const DATED = /^(\d{4})-(\d{2})-(\d{2}) ([01]\d|2[0-3]):([0-5]\d)$/;
const WHEN = z
  .string()
  .refine((s) => WEEKLY.test(s) || DATED.test(s), 'use a weekly time like "Fri 16:00" or a date like "2026-12-24 00:00"');

export const WindowSchema = z
  .object({
    from: WHEN,
    to: WHEN,
    tz: z
      .string()
      .default("UTC")
      .refine((tz) => {
        try {
          new Intl.DateTimeFormat("en-US", { timeZone: tz });
          return true;
        } catch {
          return false;
        }
      }, "an IANA time zone, e.g. UTC or Europe/Berlin"),
    /** Shown when a release is refused. */
    note: z.string().max(200).optional(),
  })
  .strict()
  .superRefine((w, ctx) => {
    if (WEEKLY.test(w.from) !== WEEKLY.test(w.to))
      ctx.addIssue({ code: "custom", path: ["to"], message: "from and to are both weekly (Fri 16:00) or both dates (2026-12-24 00:00)" });
    else if (w.from === w.to) ctx.addIssue({ code: "custom", path: ["to"], message: "a window needs from and to to differ" });
    else if (DATED.test(w.from) && w.to < w.from) ctx.addIssue({ code: "custom", path: ["to"], message: "to is before from" });
  });
export type ReleaseWindow = z.infer<typeof WindowSchema>;

export const WindowsSchema = z
  .object({
    /** Releases are refused inside these. */
    deny: z.array(WindowSchema).default([]),
    /** When given, releases are refused outside all of these. */
    allow: z.array(WindowSchema).optional(),
  })
  .strict();
export type Windows = z.infer<typeof WindowsSchema>;
