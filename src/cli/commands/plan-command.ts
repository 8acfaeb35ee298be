// `cbo plan <worker>`: what `cbo release <worker>` would do now, changing nothing.
import { parse } from "../args.ts";
import { DAEMON_FLAGS, connect, positionalsAs, printUsage } from "../daemon-flags.ts";
import { formatPlan } from "../format-plan.ts";
import { printJsonLine } from "../output.ts";
import { usageOf } from "../usage/index.ts";

export const PLAN_USAGE = usageOf("plan");

export async function planCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, DAEMON_FLAGS, PLAN_USAGE);
  if (values.help) return printUsage(PLAN_USAGE);
  const { worker } = positionalsAs(positionals, ["worker"], PLAN_USAGE);
  const plan = await connect(values).plan(worker);
  if (values.json) printJsonLine(plan);
  else process.stdout.write(formatPlan(plan));
  return 0;
}
