// One line of free text that people read back later (a token's name, a release's reason): in the
// audit log, `cbo audit tail`, tables and the dashboard. A control character there forges output
// (a newline starts a fake line of `cbo audit tail`), and a bidi control reverses what is shown
// (U+202E makes "‮gnp.exe" read as "exe.png"); a blank one names nothing.
import * as z from "zod";

const UNSHOWABLE = /[\p{Cc}\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;

export function lineOfText(max: number) {
  return z
    .string()
    .trim()
    .min(1, "must not be empty or blank")
    .max(max)
    .refine((s) => !UNSHOWABLE.test(s), "must be one line of text: no control characters (line breaks, tabs, NUL) or bidi controls");
}
