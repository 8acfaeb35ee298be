// `cbo d1 restore <binding> --target T --to-release R [--worker W] [--yes]`: restores a target's
// D1 database to the Time Travel bookmark release R took before its migrations there. It prints
// what it will do (the bookmark, when, the minutes of writes lost) and asks first: on a terminal a
// y/N question, otherwise --yes (a script must say so). The daemon audits it.
import { createInterface } from "node:readline/promises";
import { CboError } from "../../kit/errors.ts";
import { parse } from "../args.ts";
import { processIo, type CliIo } from "../cli-io.ts";
import { connect, DAEMON_FLAGS } from "../daemon-flags.ts";
import { dispatch, positionals, writeJson, type Subcommand } from "../subcommand.ts";
import { usageOf } from "../usage/index.ts";

export const D1_USAGE = usageOf("d1");

const restore: Subcommand = async (args, io) => {
  const { values, positionals: given } = parse(
    args,
    { ...DAEMON_FLAGS, target: { type: "string" }, "to-release": { type: "string" }, worker: { type: "string" }, yes: { type: "boolean" } },
    D1_USAGE,
  );
  const { binding } = positionals(given, ["binding"], D1_USAGE);
  if (!values.target || !values["to-release"])
    throw new CboError("ERR_USAGE", "cbo d1 restore needs --target T and --to-release R.", { hint: D1_USAGE });
  const req = {
    binding,
    target: values.target,
    release: values["to-release"],
    ...(values.worker ? { worker: values.worker } : {}),
  };
  const c = connect(values);
  const p = await c.d1RestorePreview(req);
  const what = `Restore D1 ${p.database} (${p.binding} of ${p.worker}) on ${p.target} to the bookmark taken before release ${p.release} (${p.bookmarkAt}): about ${p.minutesLost} minute(s) of writes since then will be lost${p.migrations.length > 0 ? `, and the schema loses ${p.migrations.join(", ")}` : ""}.`;
  if (!values.json) io.stderr.write(`${what}\n`);
  let yes = values.yes === true;
  if (!yes && io.stdin.isTTY && io.stderr.isTTY) {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    yes = /^y(es)?$/i.test((await rl.question("Restore? [y/N] ")).trim());
    rl.close();
    if (!yes) {
      io.stderr.write("nothing restored\n");
      return 1;
    }
  }
  if (!yes)
    throw new CboError("ERR_CONFIRMATION_REQUIRED", "Not restored: the writes since the bookmark would be lost.", {
      hint: "Run it again with --yes once you accept that (or on a terminal, answer y).",
    });
  const r = await c.d1Restore({ ...req, confirm: true });
  if (values.json) return (writeJson(io, r), 0);
  io.stdout.write(
    `restored D1 ${r.database} on ${r.target} to ${r.bookmark}${r.undoBookmark ? `; to undo: wrangler d1 time-travel restore ${r.database} --bookmark ${r.undoBookmark}` : ""}\n`,
  );
  return 0;
};

export async function d1Command(args: string[], io: CliIo = processIo()): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) return (io.stdout.write(D1_USAGE + "\n"), 0);
  return dispatch("d1", args, io, { restore }, D1_USAGE);
}
