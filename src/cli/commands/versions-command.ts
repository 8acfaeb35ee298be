// `cbo versions <worker>`: the newest versions per target, the live one marked.
import { intFlag, parse } from "../args.ts";
import { DAEMON_FLAGS, connect, positionalsAs, printUsage, stdoutPaint } from "../daemon-flags.ts";
import { formatVersions, lastPerTarget } from "../format-versions.ts";
import { printJsonLine } from "../output.ts";
import { usageOf } from "../usage/index.ts";

export const VERSIONS_USAGE = usageOf("versions");

export async function versionsCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { ...DAEMON_FLAGS, limit: { type: "string" } }, VERSIONS_USAGE);
  if (values.help) return printUsage(VERSIONS_USAGE);
  const { worker } = positionalsAs(positionals, ["worker"], VERSIONS_USAGE);
  const limit = intFlag(values.limit, "limit", 1, 100) ?? 10;
  const versions = lastPerTarget((await connect(values).versions(worker)).items, limit);
  if (values.json) printJsonLine(versions);
  else process.stdout.write(formatVersions(worker, versions, stdoutPaint()));
  return 0;
}
