// A YAML (or JSON) escape such as "\ud800" spells a string no UTF-8 can hold: an unpaired UTF-16
// surrogate. Stored (SQLite, the vault, the audit log) or sent (a Worker's vars, KV) it turns into
// U+FFFD, so what runs would differ from what the file says and what the audit log hashed. The
// API refuses such JSON bodies (api/json-body.ts); a spec file is refused here, naming the path.
import { CboError } from "../kit/errors.ts";

/** ERR_VALIDATION naming the first key or string in `data` that is not well-formed Unicode. */
export function checkWellFormed(data: unknown, file: string): void {
  const at = illFormedAt(data, []);
  if (!at) return;
  const where =
    at
      .map((p) => (typeof p === "number" ? `[${p}]` : `.${p}`))
      .join("")
      .replace(/^\./, "") || "(root)";
  throw new CboError("ERR_VALIDATION", `${file}: ${where}: holds an unpaired UTF-16 surrogate (a lone \\ud800-\\udfff escape).`, {
    details: { path: where },
    hint: "Write valid Unicode: the character itself, or a character outside the BMP as its surrogate pair (\\U0001F600 in YAML).",
  });
}

function illFormedAt(v: unknown, path: Array<string | number>): Array<string | number> | undefined {
  if (typeof v === "string") return v.isWellFormed() ? undefined : path;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const at = illFormedAt(v[i], [...path, i]);
      if (at) return at;
    }
    return undefined;
  }
  if (v === null || typeof v !== "object") return undefined;
  for (const [key, child] of Object.entries(v)) {
    // The key itself, shown well-formed (U+FFFD where the lone surrogate is) so the message prints.
    if (!key.isWellFormed()) return [...path, key.toWellFormed()];
    const at = illFormedAt(child, [...path, key]);
    if (at) return at;
  }
  return undefined;
}
