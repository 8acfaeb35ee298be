// Flag parsing on node:util parseArgs, with errors the CLI can print (ERR_USAGE).
import { parseArgs, type ParseArgsConfig } from "node:util";
import { CboError } from "../kit/errors.ts";

export function parse<T extends NonNullable<ParseArgsConfig["options"]>>(args: string[], options: T, usage: string) {
  try {
    return parseArgs({
      args,
      options: { ...options, help: { type: "boolean", short: "h" }, debug: { type: "boolean" }, json: { type: "boolean" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw new CboError("ERR_USAGE", (e as Error).message.split("\n")[0]!, { hint: usage });
  }
}

/** Decimal digits only: Number() alone would take "" and " " as 0, "0x10" as 16 and "1e3" as 1000. */
export const WHOLE_NUMBER = /^-?\d+$/;

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
