// Flag parsing on node:util parseArgs, with errors the CLI can print (ERR_USAGE).
import { parseArgs, type ParseArgsConfig } from "node:util";
import { CboError } from "../kit/errors.ts";

export function parse<T extends NonNullable<ParseArgsConfig["options"]>>(args: string[], options: T, usage: string) {
  try {
    return parseArgs({ args, options: { ...options, help: { type: "boolean", short: "h" }, debug: { type: "boolean" }, json: { type: "boolean" } }, allowPositionals: true, strict: true });
  } catch (e) {
    throw new CboError("ERR_USAGE", (e as Error).message.split("\n")[0]!, { hint: usage });
  }
}

export function intFlag(value: string | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new CboError("ERR_USAGE", `--${name} must be a whole number from ${min} to ${max} (got "${value}").`);
  return n;
}
