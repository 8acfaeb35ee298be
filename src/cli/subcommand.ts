// What the commands with subcommands (secrets, tokens, audit) share: dispatch, and positional
// arguments checked without repeating them in errors (a mistyped `cbo secrets set NAME VALUE`
// must not copy VALUE into an error message or a log that captures stderr).
import { CboError, type ErrorCode } from "../kit/errors.ts";
import type { CliIo } from "./cli-io.ts";

export type Subcommand = (args: string[], io: CliIo) => Promise<number>;

export async function dispatch(
  group: string,
  args: string[],
  io: CliIo,
  table: Record<string, Subcommand>,
  usage: string,
  opts: { echoUnknown?: boolean } = {},
): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === "help" || sub === "--help" || sub === "-h") {
    io.stdout.write(usage + "\n");
    return sub === undefined ? 1 : 0;
  }
  const run = Object.hasOwn(table, sub) ? table[sub] : undefined;
  if (!run) {
    const what = opts.echoUnknown === false || sub.startsWith("-") ? "" : ` "${sub}"`;
    throw new CboError("ERR_USAGE", `Unknown ${group} command${what}: use one of ${Object.keys(table).join(", ")}.`, { hint: usage });
  }
  return run(rest, io);
}

const ORDINAL = ["first", "second", "third", "fourth"];

/** The named positionals; extra ones are refused by position, never quoted. */
export function positionals<N extends string>(given: string[], names: readonly N[], usage: string, extraHint?: string): Record<N, string> {
  if (given.length < names.length) throw new CboError("ERR_USAGE", `Missing <${names[given.length]}>.`, { hint: usage });
  if (given.length > names.length) {
    const n = names.length;
    throw new CboError(
      "ERR_USAGE",
      `Unexpected ${ORDINAL[n] ?? `${n + 1}th`} argument: this command takes ${n === 0 ? "none" : names.map((x) => `<${x}>`).join(" ")}.`,
      {
        hint: extraHint ?? usage,
      },
    );
  }
  return Object.fromEntries(names.map((x, i) => [x, given[i]!])) as Record<N, string>;
}

export function writeJson(io: CliIo, value: unknown): void {
  io.stdout.write(JSON.stringify(value) + "\n");
}

/** Rethrows a CboError of `code` with a hint that fits the command better than the generic one. */
export async function hinted<T>(
  p: Promise<T>,
  hints: Partial<Record<ErrorCode, string | ((e: CboError) => string | undefined)>>,
): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if (!(e instanceof CboError)) throw e;
    const h = hints[e.code];
    const hint = typeof h === "function" ? h(e) : h;
    if (hint === undefined) throw e;
    throw new CboError(e.code, e.message, { ...(e.details ? { details: e.details } : {}), hint, cause: e.cause });
  }
}
