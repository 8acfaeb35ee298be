// Times on the command line: a duration like 30d (tokens' --expires: from now; audit's --since:
// ago) or an ISO 8601 timestamp. Always turned into an ISO string for the API.
import { CboError } from "../kit/errors.ts";

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const DURATION = /^(\d{1,6})(s|m|h|d|w)$/;
const ISO = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

export function parseDurationMs(text: string): number | undefined {
  const m = DURATION.exec(text);
  return m ? Number(m[1]) * UNIT_MS[m[2]!]! : undefined;
}

/** A duration counted from `now` (sign +1: ahead, -1: back), or an ISO timestamp as given. */
export function timeFlag(text: string, flag: string, direction: 1 | -1, now: number = Date.now()): string {
  const ms = parseDurationMs(text);
  if (ms !== undefined) return new Date(now + direction * ms).toISOString();
  const t = ISO.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(t)) {
    throw new CboError("ERR_USAGE", `--${flag} takes a duration (30m, 12h, 7d, 2w) or an ISO 8601 time (got "${text}").`, {
      hint: `e.g. --${flag} ${direction > 0 ? "30d" : "1h"} or --${flag} 2025-01-31T12:00:00Z`,
    });
  }
  return new Date(t).toISOString();
}

/** --expires: in the future, or it would create a token that is dead on arrival. */
export function expiresFlag(text: string, now: number = Date.now()): string {
  const iso = timeFlag(text, "expires", 1, now);
  if (Date.parse(iso) <= now) throw new CboError("ERR_USAGE", `--expires ${text} is in the past.`, { hint: "e.g. --expires 30d" });
  return iso;
}
