// `cbo diff <worker> [--strict]`: per target, what `cbo release` would change against what the
// target runs now. --strict, for CI: exit 4 when a target runs something the spec does not know.
import { parse } from "../args.ts";
import { DAEMON_FLAGS, connect, positionalsAs, printUsage } from "../daemon-flags.ts";
import { EXIT } from "../exit-codes.ts";
import { formatDiff } from "../format-diff.ts";
import { printJsonLine } from "../output.ts";
import { usageOf } from "../usage/index.ts";

export const DIFF_USAGE = usageOf("diff");

export async function diffCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { ...DAEMON_FLAGS, strict: { type: "boolean" } }, DIFF_USAGE);
  if (values.help) return printUsage(DIFF_USAGE);
  const { worker } = positionalsAs(positionals, ["worker"], DIFF_USAGE);
  const diff = await connect(values).diff(worker);
  if (values.json) printJsonLine(diff);
  else process.stdout.write(formatDiff(diff));
  return values.strict && diff.drift ? EXIT.drift : EXIT.ok;
}
