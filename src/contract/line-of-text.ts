// One line of free text that people read back later (a token's name, a release's reason): in the
// audit log, `cbo audit tail`, tables and the dashboard. A control character there forges output
// (a newline starts a fake line of `cbo audit tail`), and a bidi control reverses what is shown
// (U+202E makes "‮gnp.exe" read as "exe.png"); a blank one names nothing.
import * as z from "zod";
import { maskTokens } from "../kit/mask-tokens.ts";

const UNSHOWABLE = /[\p{Cc}\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;
const UNSHOWABLE_ALL = new RegExp(UNSHOWABLE.source, "gu");

export function lineOfText(max: number) {
  return z
    .string()
    .trim()
    .min(1, "must not be empty or blank")
    .max(max)
    .refine((s) => !UNSHOWABLE.test(s), "must be one line of text: no control characters (line breaks, tabs, NUL) or bidi controls");
}

/**
 * Text the caller sent, as an answer names it back ("No worker named …", "No route GET …"): never
 * more than `max` characters (then "…"; a path parameter or path came back whole, up to the 16 KiB
 * a request line may hold), and each control or bidi character written as its \uXXXX escape, so
 * that what is shown is what was sent (an RTL override no longer reverses the rest of the line, a
 * newline no longer starts one).
 */
export function shownText(text: string, max = 100): string {
  // Tokens masked before the cut: a token cut short no longer has the shape the answer's masking
  // (src/api/errors.ts) finds, and the part left would go back to the client as sent.
  const chars = [...maskTokens(text)];
  const cut = chars.length > max ? `${chars.slice(0, max).join("")}…` : chars.join("");
  return cut.replace(UNSHOWABLE_ALL, (c) => `\\u${c.codePointAt(0)!.toString(16).padStart(4, "0")}`);
}
