// `cbo config diff|publish|history|rollback`: the signed agent config of each worker (issue 5).
// diff shows, per target, what the spec wants against what was published, and whether an agent
// there reported running it; publish signs and sends; rollback re-sends an earlier version.
import { formatConfigChange, type ConfigDiff, type ConfigPublish } from "../../contract/index.ts";
import { CboError } from "../../kit/errors.ts";
import { parse, WHOLE_NUMBER } from "../args.ts";
import { processIo, type CliIo } from "../cli-io.ts";
import { EXIT } from "../exit-codes.ts";
import { connect, DAEMON_FLAGS } from "../daemon-flags.ts";
import { dispatch, positionals, writeJson, type Subcommand } from "../subcommand.ts";
import { table as rowsTable } from "../table.ts";
import { usageOf } from "../usage/index.ts";

const table = (header: string[], rows: string[][]) => `${rowsTable(rows, header)}\n`;

export const CONFIG_USAGE = usageOf("config");

/** Under the table: each target's changed keys with the published and the desired value. */
function changeLines(d: ConfigDiff[]): string {
  const rows = d.flatMap((t) => t.changes.map((c, i) => `${i === 0 ? t.target.padEnd(6) : " ".repeat(6)}${formatConfigChange(c)}`));
  return rows.length ? `changes (published -> desired):\n${rows.join("\n")}\n` : "";
}

function printPublish(io: CliIo, r: ConfigPublish): number {
  io.stdout.write(
    `${r.worker}: config version ${r.version}${r.rollbackOf ? ` (rollback to ${r.rollbackOf})` : ""}, sha256 ${r.hash.slice(0, 12)}\n`,
  );
  io.stdout.write(
    table(
      ["TARGET", "WRITTEN", "POKE"],
      r.targets.map((t) => [
        t.target,
        t.written ? `v${t.version}` : `no: ${t.error ?? "?"}`,
        t.poke === "ok" ? "ok" : `${t.poke} (the agent's polling picks it up)`,
      ]),
    ),
  );
  // A target that could not be written (its KV, its API) is the system's failure, not the user's.
  return r.targets.every((t) => t.written) ? EXIT.ok : EXIT.systemError;
}

const conn = (args: string[], extra: Record<string, { type: "string" | "boolean" }> = {}) => {
  const { values, positionals: given } = parse(args, { ...DAEMON_FLAGS, ...extra }, CONFIG_USAGE);
  const { worker } = positionals(given, ["worker"], CONFIG_USAGE);
  return { values: values as typeof values & Record<string, unknown>, worker, c: connect(values) };
};

const diff: Subcommand = async (args, io) => {
  const { values, worker, c } = conn(args);
  const d = await c.configDiff(worker);
  if (values.json) return (writeJson(io, d), 0);
  io.stdout.write(
    table(
      ["TARGET", "PUBLISHED", "IN KV", "APPLIED", "CHANGES"],
      d.map((t) => [
        t.target,
        t.published ? `v${t.published.version}` : "-",
        t.written ? `v${t.written}` : "-",
        t.applied ? "yes" : "no",
        t.changed ? t.changes.map((c) => c.path).join(", ") || "(new)" : "-",
      ]),
    ),
  );
  io.stdout.write(changeLines(d));
  return 0;
};

const publish: Subcommand = async (args, io) => {
  const { values, worker, c } = conn(args, { force: { type: "boolean" } });
  const r = await c.configPublish(worker, { force: values.force === true });
  if (values.json) return (writeJson(io, r), r.targets.every((t) => t.written) ? EXIT.ok : EXIT.systemError);
  return printPublish(io, r);
};

const history: Subcommand = async (args, io) => {
  const { values, worker, c } = conn(args);
  const h = await c.configHistory(worker);
  if (values.json) return (writeJson(io, h), 0);
  io.stdout.write(
    table(
      ["VERSION", "CREATED", "BY", "SHA256", "NOTE"],
      h.map((v) => [
        String(v.version),
        v.createdAt,
        v.createdBy ?? "-",
        v.hash.slice(0, 12),
        v.rollbackOf ? `rollback to ${v.rollbackOf}` : "",
      ]),
    ),
  );
  return 0;
};

const rollback: Subcommand = async (args, io) => {
  const { values, worker, c } = conn(args, { to: { type: "string" } });
  const to = typeof values.to === "string" && WHOLE_NUMBER.test(values.to) ? Number(values.to) : Number.NaN;
  if (!Number.isInteger(to) || to < 1)
    throw new CboError("ERR_USAGE", "--to takes a config version number (see cbo config history).", { hint: CONFIG_USAGE });
  const r = await c.configRollback(worker, to);
  if (values.json) return (writeJson(io, r), r.targets.every((t) => t.written) ? EXIT.ok : EXIT.systemError);
  return printPublish(io, r);
};

export async function configCommand(args: string[], io: CliIo = processIo()): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) return (io.stdout.write(CONFIG_USAGE + "\n"), 0);
  return dispatch("config", args, io, { diff, publish, history, rollback }, CONFIG_USAGE);
}
