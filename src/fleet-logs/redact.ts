// Redaction of a log line, pure. Two levels:
//  - `secretsOnly`: the vault's values for the line's worker (its listed secrets in every kept
//    version, its per-Worker keys in each encoding) become `[secret]`: what every API reader gets,
//    since no secret value may leave the daemon in an answer.
//  - `full`: also tokens and keys by their shape (bearer and basic credentials, orchestrator tokens,
//    JWTs, well-known API key prefixes, `key=`/`token=`/`password=`… parameters), email
//    addresses, IPv4 and IPv6 addresses, and the configured field paths: what is shipped, and what
//    a viewer reads.
// The input is never changed (the local copy keeps the raw line); a new line comes back.
//
// Field paths name keys from the line's root (`event.request.headers.x-user-id`); arrays are
// walked through (`logs.message.user.email` reaches every console argument's `user.email`), `*` is
// any one key and `**` any depth (`**.password`). A matched field's value becomes `[redacted]`,
// whatever its type. Paths see structure only: an object a Worker logged as a JSON string is text,
// and only the patterns apply to it.
import { isIPv4, isIPv6 } from "node:net";
import type { LogLine } from "../contract/index.ts";

export const MASK = { secret: "[secret]", field: "[redacted]", email: "[email]", ip: "[ip]", token: "[token]" } as const;

/** Shorter values are not masked: a one-letter "secret" would blank out every line. */
export const MIN_SECRET_LENGTH = 4;

export type RedactRules = {
  /** Exact strings to mask wherever they occur (already with their encodings). */
  secrets: readonly string[];
  /** Tokens, keys, emails and IPs by shape. */
  patterns: boolean;
  /** Field paths (see above). */
  fields: readonly string[];
};

const TOKEN_PATTERNS: Array<[RegExp, string]> = [
  [/\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{6,}/gi, `$1 ${MASK.token}`],
  [/\bcbo_(?:admin|deployer|viewer|agent)_[A-Za-z0-9_-]{8,}/g, MASK.token],
  [/\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}/g, MASK.token],
  [
    /\b(?:(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{8,}|whsec_[A-Za-z0-9+/=]{8,}|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{30,})/g,
    MASK.token,
  ],
  [
    /((?:^|[?&;,\s"'{(])(?:api[_-]?key|apikey|access[_-]?token|refresh[_-]?token|auth(?:orization)?|token|secret|client[_-]?secret|password|passwd|pwd|key|signature|sig|session)\s*[=:]\s*)[^&\s"',;)}#]+/gi,
    `$1${MASK.token}`,
  ],
];
// Also as URLs carry them: `ann%40example.com`, `2001%3Adb8%3A%3A1`.
const EMAIL = /[A-Za-z0-9._%+-]+(?:@|%40)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
const IPV4 = /(?<![0-9.])\d{1,3}(?:\.\d{1,3}){3}(?![0-9])/g;
// Candidates only: each is confirmed by node:net (a time like 12:34:56 is not an address).
const IPV6 = /(?<![0-9A-Za-z:%])(?:[0-9A-Fa-f]{0,4}(?::|%3[Aa])){2,7}(?:[0-9A-Fa-f]{1,4}|:|%3[Aa])?(?![0-9A-Za-z:])/g;

/** The strings that stand for `value` in a log: itself, URL-encoded, JSON-escaped. */
export function secretForms(value: string): string[] {
  if (value.length < MIN_SECRET_LENGTH) return [];
  const forms = new Set([value, encodeURIComponent(value), JSON.stringify(value).slice(1, -1)]);
  return [...forms];
}

/** The forms of a key given as bytes: base64url (as Workers get it), base64 and hex. */
export function keyForms(bytes: Uint8Array): string[] {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return [b.toString("base64url"), b.toString("base64"), b.toString("hex")].flatMap(secretForms);
}

export function redactText(s: string, rules: RedactRules): string {
  let out = s;
  for (const v of rules.secrets) if (out.includes(v)) out = out.split(v).join(MASK.secret);
  if (!rules.patterns) return out;
  for (const [re, to] of TOKEN_PATTERNS) out = out.replace(re, to);
  out = out.replace(EMAIL, MASK.email);
  out = out.replace(IPV4, (m) => (isIPv4(m) ? MASK.ip : m));
  out = out.replace(IPV6, (m) => (isIPv6(m.replace(/%3a/gi, ":")) ? MASK.ip : m));
  return out;
}

type Path = string[];
const compiled = new Map<string, Path>();
const pathOf = (p: string): Path => {
  let c = compiled.get(p);
  if (!c) compiled.set(p, (c = p.split(".")));
  return c;
};

/** Masks what `path` reaches in `value` (a fresh copy, arrays walked through). */
function maskPath(value: unknown, path: Path): unknown {
  if (path.length === 0) return MASK.field;
  if (Array.isArray(value)) return value.map((v) => maskPath(v, path));
  if (value === null || typeof value !== "object") return value;
  const [head, ...rest] = path as [string, ...string[]];
  const obj = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    let next = v;
    if (head === "**") {
      // ** matches zero keys (try the rest here) or one more (stay on **).
      next = maskPath(next, ["**", ...rest]);
      if (rest.length > 0 && (rest[0] === k || rest[0] === "*")) next = maskPath(next, rest.slice(1));
    } else if (head === "*" || head === k) next = maskPath(v, rest);
    out[k] = next;
  }
  return out;
}

function mapStrings(value: unknown, fn: (s: string) => string): unknown {
  if (typeof value === "string") return fn(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, fn));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = mapStrings(v, fn);
    return out;
  }
  return value;
}

/** The line with the rules applied (worker, target, ids, times, outcome, status and verdict stay as they are). */
export function redactLine(line: LogLine, rules: RedactRules): LogLine {
  if (rules.secrets.length === 0 && !rules.patterns && rules.fields.length === 0) return line;
  const { id, time, worker, target, versionId, outcome, status, verdict, ...body } = line;
  let masked: unknown = body;
  for (const f of rules.fields) {
    const path = pathOf(f);
    // Paths name keys from the line's root; the labels above are not the reader's to hide.
    masked = maskPath(masked, path);
  }
  masked = mapStrings(masked, (s) => redactText(s, rules));
  return { id, time, worker, target, versionId, outcome, status, verdict, ...(masked as typeof body) };
}
