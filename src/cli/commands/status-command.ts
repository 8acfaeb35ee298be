// `cbo status`: per worker and target, what is live (with percentages), its health, and the
// worker's last release; read from the daemon (GET /v1/status).
import { parse } from "../args.ts";
import { DAEMON_FLAGS, connect, positionalsAs, printUsage, stdoutPaint } from "../daemon-flags.ts";
import { formatStatus } from "../format-status.ts";
import { printJsonLine } from "../output.ts";
import { usageOf } from "../usage/index.ts";

export const STATUS_USAGE = usageOf("status");

export async function statusCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, DAEMON_FLAGS, STATUS_USAGE);
  if (values.help) return printUsage(STATUS_USAGE);
  positionalsAs(positionals, [], STATUS_USAGE);
  const status = await connect(values).status();
  if (values.json) printJsonLine(status);
  else process.stdout.write(formatStatus(status, stdoutPaint()));
  return 0;
}
