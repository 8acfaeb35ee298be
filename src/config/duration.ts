// Durations as orchestrator.yaml writes them: a whole number and a unit, `30s`, `15m`, `12h`, `7d`.
import * as z from "zod";

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(\d{1,7})(s|m|h|d)$/;

/** Milliseconds, or undefined when `text` is not a duration. */
export function durationMs(text: string): number | undefined {
  const m = DURATION.exec(text);
  return m ? Number(m[1]) * UNIT_MS[m[2]!]! : undefined;
}

/** A duration between `minMs` and `maxMs`, read into milliseconds. */
export const DurationSchema = (minMs: number, maxMs: number, example: string) =>
  z.string().transform((text, ctx) => {
    const ms = durationMs(text);
    if (ms === undefined) {
      ctx.addIssue({ code: "custom", message: `a duration like ${example} (a whole number and s, m, h or d), not "${text}"` });
      return z.NEVER;
    }
    if (ms < minMs || ms > maxMs) {
      ctx.addIssue({ code: "custom", message: `${text} is outside ${minMs / 1000}s to ${maxMs / 86_400_000}d` });
      return z.NEVER;
    }
    return ms;
  });
