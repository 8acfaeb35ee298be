// `cbo secrets …`: the vault over the daemon's API. A value enters only through stdin or
// --from-file (read-secret-input.ts) and leaves only through `get`, which prints it and nothing
// else to stdout. No other output, error or hint ever contains a value, and no error repeats an
// argument of this command (a value typed on the command line by mistake stays out of logs).
import { CboError } from "../../kit/errors.ts";
import { intFlag, parse } from "../args.ts";
import { processIo, type CliIo } from "../cli-io.ts";
import { connect, DAEMON_FLAGS } from "../daemon-flags.ts";
import { readSecretInput } from "../read-secret-input.ts";
import { deliver } from "./secrets-deliver.ts";
import { SECRETS_MANAGE } from "./secrets-manage.ts";
import { SECRETS_USAGE, VALUE_HINT, conflictHint } from "../secrets-usage.ts";
import { dispatch, hinted, positionals, writeJson } from "../subcommand.ts";

const VALUE_FLAG = /^--?(value|secret|password|val)(=|$)/i;

/** `--value x` would put the value in argv: refused by name, without repeating what followed. */
function refuseValueFlags(args: string[]): void {
  if (args.some((a) => VALUE_FLAG.test(a))) {
    throw new CboError(
      "ERR_USAGE",
      "A secret value is never taken from the command line (other users can read it in `ps`, and it stays in shell history).",
      { hint: VALUE_HINT },
    );
  }
}

async function setSecret(args: string[], io: CliIo): Promise<number> {
  const { values, positionals: given } = parse(
    args,
    {
      ...DAEMON_FLAGS,
      "from-file": { type: "string" },
      cas: { type: "string" },
      mode: { type: "string" },
      jurisdiction: { type: "string", multiple: true },
    },
    SECRETS_USAGE,
  );
  const { name } = positionals(given, ["name"], SECRETS_USAGE, `the value is never an argument: ${VALUE_HINT}`);
  const cas = intFlag(values.cas, "cas", 0, Number.MAX_SAFE_INTEGER);
  if (values.mode !== undefined && values.mode !== "binding" && values.mode !== "relay") {
    throw new CboError("ERR_USAGE", "--mode is binding or relay.", {
      hint: "binding: a Workers secret at Cloudflare; relay (default): fetched at run time, never stored at Cloudflare",
    });
  }
  const jurisdictions = values.jurisdiction
    ?.flatMap((j) => j.split(","))
    .map((j) => j.trim())
    .filter(Boolean);
  const fromFile = values["from-file"] === "-" ? undefined : values["from-file"];
  const input = await readSecretInput({ fromFile, stdin: io.stdin });
  const client = connect(values);
  const written = await hinted(
    client.putSecret(name, {
      value: input.value,
      encoding: input.encoding,
      ...(cas === undefined ? {} : { cas }),
      ...(values.mode ? { mode: values.mode } : {}),
      ...(jurisdictions ? { jurisdictions } : {}),
    }),
    { ERR_CONFLICT: conflictHint, ERR_FORBIDDEN: "writing a secret needs a deployer or admin token" },
  );
  for (const w of written.warnings ?? []) io.stderr.write(`warning: ${w}\n`);
  if (values.json) writeJson(io, written);
  else io.stdout.write(`secret ${written.name} is at version ${written.version}\n`);
  return 0;
}

async function getSecret(args: string[], io: CliIo): Promise<number> {
  const { values, positionals: given } = parse(args, { ...DAEMON_FLAGS, version: { type: "string" } }, SECRETS_USAGE);
  const { name } = positionals(given, ["name"], SECRETS_USAGE);
  const version = intFlag(values.version, "version", 1, Number.MAX_SAFE_INTEGER);
  const client = connect(values);
  const got = await hinted(client.getSecret(name, version), {
    ERR_FORBIDDEN: "reading a value needs an admin token (every read is audited)",
  });
  if (values.json) {
    writeJson(io, { name: got.name, version: got.version, value: got.value, encoding: got.encoding });
    return 0;
  }
  // Exactly the stored bytes: no newline added, so `$(cbo secrets get X)` and `> file` are exact.
  const bytes = got.encoding === "base64" ? Buffer.from(got.value, "base64") : Buffer.from(got.value, "utf8");
  io.stdout.write(bytes);
  // On a terminal, end the line on stderr, so the prompt does not run on after the value while
  // stdout keeps only the value.
  if (io.stdout.isTTY && io.stderr.isTTY && bytes.at(-1) !== 0x0a) io.stderr.write("\n");
  bytes.fill(0);
  return 0;
}

export async function secretsCommand(args: string[], io: CliIo = processIo()): Promise<number> {
  refuseValueFlags(args);
  if (args.includes("--help") || args.includes("-h")) return (io.stdout.write(SECRETS_USAGE + "\n"), 0);
  return dispatch("secrets", args, io, { set: setSecret, get: getSecret, ...SECRETS_MANAGE, deliver }, SECRETS_USAGE, {
    echoUnknown: false,
  });
}
