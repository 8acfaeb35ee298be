// The last line of defence for log lines (and span attributes): whatever a message interpolated,
// these are masked before a line leaves the process:
//   - the daemon's own token shapes (`cbo_<role>_<random>`), bearer credentials, PEM private keys;
//   - long opaque base64/base64url runs (32-byte keys print as 43-44 characters) that are not hex
//     (hashes, ids and version tags are hex or short, and stay readable);
//   - every value registered with register(): the Cloudflare API token, the master key as given,
//     and each secret value the vault hands out (as text, base64, base64url and hex).
// Values never reach the logger on purpose (fields are scalars, messages name things, not
// values); this catches the mistake.
import { maskTokens, TOKEN_SHAPE } from "../kit/mask-tokens.ts";
const SHAPES: Array<[RegExp, string]> = [
  [TOKEN_SHAPE, "cbo_$1_[redacted]"],
  [/\b(Bearer[ \t]+)[^\s"',;]+/gi, "$1[redacted]"],
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g, "[redacted private key]"],
];
const OPAQUE = /[A-Za-z0-9+_-]{40,}={0,2}/g;

/**
 * Only the daemon's token shapes masked: for text that goes back to a client, such as an error
 * answer that names what it was given ("No token with id …") when a token was pasted for an id.
 */
export { maskTokens };

/** The registered values kept at most (the oldest are forgotten first). */
const MAX_VALUES = 4096;
/** Shorter values are not registered: they would mask ordinary words. */
const MIN_VALUE_CHARS = 8;

export type Redactor = {
  redact(text: string): string;
  /** Masks this value (and its base64/base64url/hex forms) in every later line. */
  register(value: string | Uint8Array): void;
};

export function createRedactor(): Redactor {
  const values = new Set<string>();
  let pattern: RegExp | undefined;
  let dirty = false;

  function add(form: string): void {
    if (form.length < MIN_VALUE_CHARS || values.has(form)) return;
    values.add(form);
    if (values.size > MAX_VALUES) values.delete(values.values().next().value!);
    dirty = true;
  }

  return {
    register(value) {
      const bytes = typeof value === "string" ? Buffer.from(value, "utf8") : Buffer.from(value);
      const text = typeof value === "string" ? value : bytes.toString("utf8");
      add(text);
      // As a JSON line writes it (quotes, backslashes and control characters escaped).
      add(JSON.stringify(text).slice(1, -1));
      const b64 = bytes.toString("base64");
      add(b64);
      add(b64.replace(/=+$/, ""));
      add(bytes.toString("base64url"));
      add(bytes.toString("hex"));
    },
    redact(text) {
      let out = text;
      for (const [re, to] of SHAPES) out = out.replace(re, to);
      out = out.replace(OPAQUE, (run) => (isReadable(run) ? run : "[redacted]"));
      if (values.size > 0) {
        if (dirty || !pattern) {
          // Longest first, so that a value containing another is masked whole.
          const sorted = [...values].sort((a, b) => b.length - a.length).map(escape);
          pattern = new RegExp(sorted.join("|"), "g");
          dirty = false;
        }
        out = out.replace(pattern, "[redacted]");
      }
      return out;
    },
  };
}

/** Hex (hashes, ids) and runs without both letters and digits (paths, words) are not opaque. */
function isReadable(run: string): boolean {
  if (/^[0-9a-f]+$/.test(run) || /^[0-9A-F]+$/.test(run)) return true;
  return !(/[0-9]/.test(run) && /[a-z]/.test(run) && /[A-Z]/.test(run));
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}
