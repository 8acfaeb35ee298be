// A request body's JSON, as every route reads it. JSON's `\ud800` escapes can spell a string no
// UTF-8 can hold (an unpaired UTF-16 surrogate): SQLite, the vault and every log would store it as
// U+FFFD, so what is kept would differ from what was sent and hashed (the audit chain hashes the
// string as sent, and once read back the entry no longer matched its hash). Such a body is refused
// by name here, before any route sees it.
import { CboError } from "../kit/errors.ts";
import { issuePath } from "./errors.ts";

/**
 * A body said to be something other than JSON (curl -d's form encoding, a text/plain fetch) is
 * refused by its type rather than read as JSON anyway: the client learns which header to fix
 * before its body's shape is judged. No content-type at all is read as JSON.
 */
export function checkJsonType(contentType: string | undefined): void {
  if (contentType === undefined) return;
  const type = contentType.split(";")[0]!.trim().toLowerCase();
  if (type === "application/json" || /^application\/[\w.+-]+\+json$/.test(type)) return;
  throw new CboError(
    "ERR_UNSUPPORTED_MEDIA_TYPE",
    `The request body is sent as ${JSON.stringify(type.slice(0, 100))}; the API reads JSON only.`,
    {
      hint: "Send the JSON body with content-type: application/json (curl: -H 'content-type: application/json').",
      details: { contentType: type.slice(0, 100) },
    },
  );
}

/** A body's JSON; an empty body is `{}` so that a missing field is reported by name. */
export function jsonOf(text: string): unknown {
  if (text.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CboError("ERR_VALIDATION", "The request body is not valid JSON.", {
      hint: "Send a JSON object with content-type application/json.",
    });
  }
  // Only a body with a `\ud…` / `\udc…` escape can hold one (raw surrogates do not survive UTF-8 decoding).
  if (/\\u[dD][89a-fA-F]/.test(text)) {
    const at = unpairedSurrogateAt(value, []);
    if (at) {
      throw new CboError(
        "ERR_VALIDATION",
        `Invalid request: ${issuePath("body", at)} holds an unpaired UTF-16 surrogate (a lone \\ud800-\\udfff escape).`,
        {
          hint: "Send valid Unicode: escape a character outside the BMP as its surrogate pair, or send it as UTF-8.",
          details: { issues: [{ path: issuePath("body", at), message: "unpaired UTF-16 surrogate" }] },
        },
      );
    }
  }
  return value;
}

/** The path of the first key or string that is not well-formed Unicode, if any. */
function unpairedSurrogateAt(v: unknown, path: PropertyKey[]): PropertyKey[] | undefined {
  if (typeof v === "string") return v.isWellFormed() ? undefined : path;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const at = unpairedSurrogateAt(v[i], [...path, i]);
      if (at) return at;
    }
    return undefined;
  }
  if (v === null || typeof v !== "object") return undefined;
  for (const [key, child] of Object.entries(v)) {
    if (!key.isWellFormed()) return [...path, key.toWellFormed()];
    const at = unpairedSurrogateAt(child, [...path, key]);
    if (at) return at;
  }
  return undefined;
}
