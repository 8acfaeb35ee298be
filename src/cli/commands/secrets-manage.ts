// `cbo secrets list|versions|rollback|delete|undelete|destroy`: everything but set and get. None
// of these calls returns a value, and none of them prints one.
import { CboError } from "../../kit/errors.ts";
import { intFlag, parse } from "../args.ts";
import { connect, DAEMON_FLAGS } from "../daemon-flags.ts";
import { formatSecretList, formatSecretVersions } from "../format-secrets.ts";
import { SECRETS_USAGE as USAGE, conflictHint } from "../secrets-usage.ts";
import { hinted, positionals, writeJson, type Subcommand } from "../subcommand.ts";
import { asInvoked } from "../invocation.ts";

const MAX = Number.MAX_SAFE_INTEGER;
const ADMIN_HINT = "this needs an admin token";

function flags<O extends Record<string, { type: "string" | "boolean"; multiple?: boolean }>>(args: string[], extra: O) {
  return parse(args, { ...DAEMON_FLAGS, ...extra }, USAGE);
}

const list: Subcommand = async (args, io) => {
  const { values, positionals: given } = flags(args, {});
  positionals(given, [], USAGE);
  const secrets = await connect(values).listSecrets();
  io.stdout.write(values.json ? JSON.stringify(secrets) + "\n" : formatSecretList(secrets));
  return 0;
};

const versions: Subcommand = async (args, io) => {
  const { values, positionals: given } = flags(args, {});
  const { name } = positionals(given, ["name"], USAGE);
  const kept = await connect(values).secretVersions(name);
  io.stdout.write(values.json ? JSON.stringify(kept) + "\n" : formatSecretVersions(name, kept));
  return 0;
};

const rollback: Subcommand = async (args, io) => {
  const { values, positionals: given } = flags(args, { to: { type: "string" }, cas: { type: "string" } });
  const { name } = positionals(given, ["name"], USAGE);
  const to = intFlag(values.to, "to", 1, MAX);
  if (to === undefined)
    throw new CboError("ERR_USAGE", "Missing --to N: the version whose value becomes current again.", {
      hint: `see \`cbo secrets versions ${name}\``,
    });
  const cas = intFlag(values.cas, "cas", 0, MAX);
  const r = await hinted(connect(values).rollbackSecret(name, to, cas), { ERR_CONFLICT: conflictHint });
  if (values.json) writeJson(io, r);
  else io.stdout.write(`secret ${r.name} is at version ${r.version}, holding the value of version ${to}\n`);
  return 0;
};

const remove: Subcommand = async (args, io) => {
  const { values, positionals: given } = flags(args, { cas: { type: "string" } });
  const { name } = positionals(given, ["name"], USAGE);
  const cas = intFlag(values.cas, "cas", 0, MAX);
  const r = await hinted(connect(values).deleteSecret(name, cas), { ERR_CONFLICT: conflictHint });
  if (values.json) writeJson(io, r);
  else io.stdout.write(asInvoked(`secret ${r.name} deleted (\`cbo secrets undelete ${r.name}\` brings it back)\n`));
  return 0;
};

const undelete: Subcommand = async (args, io) => {
  const { values, positionals: given } = flags(args, {});
  const { name } = positionals(given, ["name"], USAGE);
  const r = await hinted(connect(values).undeleteSecret(name), { ERR_FORBIDDEN: ADMIN_HINT });
  if (values.json) writeJson(io, r);
  else io.stdout.write(`secret ${r.name} undeleted\n`);
  return 0;
};

const destroy: Subcommand = async (args, io) => {
  const { values, positionals: given } = flags(args, { version: { type: "string", multiple: true }, yes: { type: "boolean" } });
  const { name } = positionals(given, ["name"], USAGE);
  const which = values.version?.map((v) => intFlag(v, "version", 1, MAX)!);
  if (!values.yes) {
    throw new CboError(
      "ERR_USAGE",
      `Destroying ${which ? `version ${which.join(", ")} of` : "every version of"} secret ${name} cannot be undone.`,
      {
        hint: "add --yes to go ahead; `cbo secrets delete` is the reversible kind",
      },
    );
  }
  const r = await hinted(connect(values).destroySecret(name, which), { ERR_FORBIDDEN: ADMIN_HINT });
  if (values.json) writeJson(io, r);
  else
    io.stdout.write(
      r.destroyed.length
        ? `secret ${r.name}: destroyed version ${r.destroyed.join(", ")}\n`
        : `secret ${r.name}: nothing left to destroy\n`,
    );
  return 0;
};

export const SECRETS_MANAGE: Record<string, Subcommand> = { list, versions, rollback, delete: remove, undelete, destroy };
