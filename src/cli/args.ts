// Flag parsing on node:util parseArgs, with errors the CLI can print (ERR_USAGE).
import { parseArgs, type ParseArgsConfig } from "node:util";
import { CboError } from "../kit/errors.ts";
import { closest } from "../kit/did-you-mean.ts";

export function parse<T extends NonNullable<ParseArgsConfig["options"]>>(args: string[], options: T, usage: string) {
  const all = { ...options, help: { type: "boolean", short: "h" }, debug: { type: "boolean" }, json: { type: "boolean" } } as const;
  let parsed;
  try {
    parsed = parseArgs({ args: negativeValuesJoined(args, all), options: all, allowPositionals: true, strict: true, tokens: true });
  } catch (e) {
    throw new CboError("ERR_USAGE", usageMessage(e as Error & { code?: string }, Object.keys(all)), { hint: usage });
  }
  // parseArgs keeps the last of a flag given twice: `--limit 5 --limit 6` (a script adding its own
  // flag to a user's) would quietly drop one. A value flag is taken once unless it lists values.
  const seen = new Set<string>();
  for (const t of parsed.tokens) {
    if (t.kind !== "option" || t.value === undefined || (all as ParseArgsConfig["options"])![t.name]?.multiple) continue;
    if (seen.has(t.name))
      throw new CboError("ERR_USAGE", `--${t.name} is given more than once.`, { hint: `give --${t.name} once; ${usage}` });
    seen.add(t.name);
  }
  return { values: parsed.values, positionals: parsed.positionals };
}

/**
 * `--limit -1`: parseArgs reads a value that starts with '-' as a flag and answers "argument is
 * ambiguous", which names nothing to fix. A negative number after a value flag is that flag's
 * value (`--limit=-1`), so the flag's own check says what it takes.
 */
function negativeValuesJoined(args: string[], options: NonNullable<ParseArgsConfig["options"]>): string[] {
  const byShort = new Map<string, string>(Object.entries(options).flatMap(([name, o]) => (o.short ? [[`-${o.short}`, name]] : [])));
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") return [...out, ...args.slice(i)];
    const name = a.startsWith("--") ? a.slice(2) : byShort.get(a);
    const next = args[i + 1];
    if (name !== undefined && options[name]?.type === "string" && next !== undefined && /^-[\d.]/.test(next)) {
      out.push(`--${name}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

/** Decimal digits only: Number() alone would take "" and " " as 0, "0x10" as 16 and "1e3" as 1000. */
export const WHOLE_NUMBER = /^-?\d+$/;

/**
 * parseArgs' error in the CLI's words. Its unknown-option text goes on about positionals that
 * start with '-', which is never what a typo needs: the flag is named, with the one it most likely
 * meant (`Unknown flag --jsno (did you mean --json?)`).
 */
function usageMessage(e: Error & { code?: string }, flags: string[]): string {
  const unknown = e.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" ? /^Unknown option '([^']+)'/.exec(e.message)?.[1] : undefined;
  if (!unknown) return e.message.split("\n")[0]!;
  // `edge fault eu latency -5`: a negative number where a value goes reads as a flag.
  if (/^-\d/.test(unknown)) return `${unknown} is not a flag, and a negative number is not a value this command takes.`;
  const meant = unknown.startsWith("--") ? closest(unknown.slice(2).split("=")[0]!, flags) : undefined;
  return `Unknown flag ${unknown}${meant ? ` (did you mean --${meant}?)` : ""}.`;
}

export function intFlag(value: string | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = WHOLE_NUMBER.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > max)
    throw new CboError("ERR_USAGE", `--${name} must be a whole number from ${min} to ${max} (got "${value}").`);
  return n;
}

/** A TCP port flag: 1..65535, or 0 for any free port (the one taken is printed). */
export function portFlag(value: string | undefined, name: string): number | undefined {
  return intFlag(value, name, 0, 65_535);
}

export function regionsFlag(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const list = value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (list.length === 0) throw new CboError("ERR_USAGE", "--regions needs at least one region name, e.g. --regions eu,us,ap");
  return list;
}
