// What jsonc-parser lets through or cannot take, refused before its result is used:
// - nesting thousands deep: its parser recurses per level and overflows the stack (a RangeError
//   with no code). Scanned flat first, with smol-toml's limit for TOML (1000 levels);
// - a key given twice in one object: it keeps the last silently (as wrangler does), so the
//   first would do nothing while the file seems to say it. YAML and TOML refuse it too.
import { CboError } from "../../kit/errors.ts";

export const MAX_JSONC_DEPTH = 1000;

// SyntaxKind is a const enum in jsonc-parser's types (not usable with erasable syntax only).
const OPEN_BRACE = 1;
const CLOSE_BRACE = 2;
const OPEN_BRACKET = 3;
const CLOSE_BRACKET = 4;
const EOF = 17;

const lineAt = (text: string, offset: number) => text.slice(0, offset).split("\n").length;

type Jsonc = typeof import("jsonc-parser");

/** Before parsing: the parser itself is what overflows. */
export function checkJsoncDepth(jsonc: Jsonc, text: string, file: string): void {
  const scanner = jsonc.createScanner(text, true);
  let depth = 0;
  for (let k = scanner.scan(); k !== EOF; k = scanner.scan()) {
    if (k === OPEN_BRACE || k === OPEN_BRACKET) depth++;
    else if (k === CLOSE_BRACE || k === CLOSE_BRACKET) depth--;
    if (depth > MAX_JSONC_DEPTH)
      throw new CboError(
        "ERR_VALIDATION",
        `${file}:${lineAt(text, scanner.getTokenOffset())}: values are nested more than ${MAX_JSONC_DEPTH} levels deep here.`,
        { hint: "Flatten the value: a wrangler config needs a few levels of nesting at most." },
      );
  }
}

/** After parsing (the text is known to be well-formed JSONC). */
export function checkJsoncDuplicates(jsonc: Jsonc, text: string, file: string): void {
  const keys: Array<Set<string>> = [];
  jsonc.visit(
    text,
    {
      onObjectBegin: () => void keys.push(new Set()),
      onObjectEnd: () => void keys.pop(),
      onObjectProperty: (name, offset, _length, _line, _column, pathOf) => {
        const seen = keys[keys.length - 1]!;
        if (!seen.has(name)) return void seen.add(name);
        const at = [...pathOf(), name]
          .map((p) => (typeof p === "number" ? `[${p}]` : `.${p}`))
          .join("")
          .replace(/^\./, "");
        throw new CboError("ERR_VALIDATION", `${file}:${lineAt(text, offset)}: ${at}: the key is given twice in one object.`, {
          hint: "Keep one of them: wrangler would use the last one and ignore the other without a word.",
        });
      },
    },
    { allowTrailingComma: true },
  );
}
