// `cbo keys list|rotate`: per-Worker keys (one HMAC key per worker and target). Only versions are
// ever shown: the daemon's answers carry no key material, and this command prints none.
//
// A rotation makes a new key per target and keeps the old one verifying; the release it starts
// ships the new key, and when that release succeeds the old key stops verifying. If it fails, both
// keep verifying until a release of the worker succeeds. --wait follows that release live and
// exits as `cbo release` does: 0 shipped, 3 rolled back (a gate failed) or aborted, 2 failed.
import { CboError } from "../../kit/errors.ts";
import { parse } from "../args.ts";
import { processIo, type CliIo } from "../cli-io.ts";
import { connect, DAEMON_FLAGS } from "../daemon-flags.ts";
import { followStarted } from "../follow-started.ts";
import type { WorkerKey } from "../../contract/index.ts";
import { dispatch, hinted, positionals, writeJson, type Subcommand } from "../subcommand.ts";
import { table } from "../table.ts";
import { usageOf } from "../usage/index.ts";
import { asInvoked } from "../invocation.ts";

export const KEYS_USAGE = usageOf("keys");

const ADMIN_HINT = "rotating keys needs an admin token";
const v = (n: number) => `v${n}`;

export function formatKeyList(keys: WorkerKey[]): string {
  if (keys.length === 0) return "no per-Worker keys yet (the first release of a worker that lists secrets makes them)\n";
  return (
    table(
      keys.map((k) => [k.worker, k.target, v(k.current), k.accepted.map(v).join(", ")]),
      ["WORKER", "TARGET", "CURRENT", "ACCEPTED"],
    ) + "\n"
  );
}

/** "eu v3 (v2 still verifies)": the new version, and the ones kept verifying beside it. */
export function rotatedText(k: WorkerKey): string {
  const old = k.accepted.filter((a) => a !== k.current);
  return `${k.target} ${v(k.current)}${old.length ? ` (${old.map(v).join(", ")} still verif${old.length === 1 ? "ies" : "y"})` : ""}`;
}

const list: Subcommand = async (args, io) => {
  const { values, positionals: given } = parse(args, { ...DAEMON_FLAGS }, KEYS_USAGE);
  positionals(given, [], KEYS_USAGE);
  const keys = await connect(values).listWorkerKeys();
  io.stdout.write(values.json ? JSON.stringify(keys) + "\n" : formatKeyList(keys));
  return 0;
};

const rotate: Subcommand = async (args, io) => {
  const { values, positionals: given } = parse(
    args,
    { ...DAEMON_FLAGS, target: { type: "string" }, "no-release": { type: "boolean" }, wait: { type: "boolean" } },
    KEYS_USAGE,
  );
  const { worker } = positionals(given, ["worker"], KEYS_USAGE);
  if (values.wait && values["no-release"])
    throw new CboError("ERR_USAGE", "--wait follows the release a rotation starts; with --no-release there is none.", { hint: KEYS_USAGE });
  const security = connect(values);
  const r = await hinted(
    security.rotateWorkerKey(worker, { ...(values.target ? { target: values.target } : {}), release: !values["no-release"] }),
    {
      ERR_FORBIDDEN: ADMIN_HINT,
      ERR_CONFLICT: `wait for the running release to end (\`cbo events --follow\`), then rotate`,
      ERR_NOT_FOUND:
        "`cbo keys list` shows the workers and targets with keys (the first release of a worker that lists secrets makes them)",
    },
  );
  const rotated = r.keys.filter((k) => k.worker === worker && (!values.target || k.target === values.target));
  const both = `the old and new keys both verify until a release of ${worker} succeeds`;
  if (!values.wait || !r.release) {
    if (values.json) writeJson(io, { keys: rotated, release: r.release });
    else {
      io.stdout.write(`rotated the keys of ${worker}: ${rotated.map(rotatedText).join(", ")}\n`);
      io.stdout.write(
        asInvoked(
          r.release
            ? `release ${r.release.id} ships them; ${both}\nfollow it with: cbo events --follow --release ${r.release.id}\n`
            : `no release started: the next release of ${worker} ships them; until then ${both}\n`,
        ),
      );
    }
    return 0;
  }
  if (!values.json) io.stdout.write(`rotated the keys of ${worker}: ${rotated.map(rotatedText).join(", ")}\n`);
  const followed = await followStarted(connect(values), r.release, io, { json: values.json });
  const now = (await security.listWorkerKeys()).filter((k) => k.worker === worker && (!values.target || k.target === values.target));
  if (values.json) writeJson(io, { keys: now, release: followed.release });
  else if (followed.release.status === "succeeded")
    io.stdout.write(`the new keys are live; verifying now: ${now.map((k) => `${k.target} ${k.accepted.map(v).join(", ")}`).join("; ")}\n`);
  if (followed.code !== 0) {
    io.stderr.write(
      asInvoked(
        `release ${followed.release.id} ${followed.release.status.replace("_", " ")}: the new keys did not ship, and ${both} (\`cbo release ${worker}\`)\n`,
      ),
    );
  }
  return followed.code;
};

export async function keysCommand(args: string[], io: CliIo = processIo()): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) return (io.stdout.write(KEYS_USAGE + "\n"), 0);
  return dispatch("keys", args, io, { list, rotate }, KEYS_USAGE);
}
