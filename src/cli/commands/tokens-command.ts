// `cbo tokens create|list|revoke`: API tokens (admin). The daemon stores only a hash, so `create`
// is the one time a token is seen: it goes alone on stdout (`T=$(cbo tokens create …)` captures
// exactly it) and what it is goes to stderr. `list` shows ids and names, never a token.
import { CboError } from "../../kit/errors.ts";
import { ROLES } from "../../contract/index.ts";
import { parse } from "../args.ts";
import { processIo, type CliIo } from "../cli-io.ts";
import { connect, DAEMON_FLAGS } from "../daemon-flags.ts";
import { expiresFlag } from "../durations.ts";
import { formatTokenList } from "../format-secrets.ts";
import { dispatch, hinted, positionals, writeJson, type Subcommand } from "../subcommand.ts";
import { usageOf } from "../usage/index.ts";

export const TOKENS_USAGE = usageOf("tokens");

const ADMIN_HINT = "managing tokens needs an admin token (the daemon writes one to <data>/admin-token)";

const create: Subcommand = async (args, io) => {
  const { values, positionals: given } = parse(
    args,
    { ...DAEMON_FLAGS, name: { type: "string" }, role: { type: "string" }, tenant: { type: "string" }, expires: { type: "string" } },
    TOKENS_USAGE,
  );
  positionals(given, [], TOKENS_USAGE);
  if (!values.name)
    throw new CboError("ERR_USAGE", "Missing --name: what the token is for (it appears in the audit log).", { hint: TOKENS_USAGE });
  if (!values.role || !(ROLES as readonly string[]).includes(values.role)) {
    throw new CboError("ERR_USAGE", `--role is one of ${ROLES.join(", ")}.`, {
      hint: "viewer reads, deployer also releases and writes secrets, admin also reads values and manages tokens; agent acts as deployer; metrics reads /metrics only",
    });
  }
  const expiresAt = values.expires === undefined ? undefined : expiresFlag(values.expires);
  const client = connect(values);
  const t = await hinted(
    client.createToken({
      name: values.name,
      role: values.role as (typeof ROLES)[number],
      ...(values.tenant ? { tenant: values.tenant } : {}),
      ...(expiresAt ? { expiresAt } : {}),
    }),
    { ERR_FORBIDDEN: ADMIN_HINT },
  );
  if (values.json) {
    writeJson(io, t);
    return 0;
  }
  io.stdout.write(t.token + "\n");
  const scope = [
    `role ${t.role}`,
    t.tenant ? `tenant ${t.tenant}` : "every tenant",
    t.expiresAt ? `expires ${t.expiresAt}` : "no expiry",
  ].join(", ");
  io.stderr.write(`created token ${t.id} "${t.name}" (${scope}); it is shown only this once: store it now\n`);
  return 0;
};

const list: Subcommand = async (args, io) => {
  const { values, positionals: given } = parse(args, { ...DAEMON_FLAGS }, TOKENS_USAGE);
  positionals(given, [], TOKENS_USAGE);
  const tokens = await hinted(connect(values).listTokens(), { ERR_FORBIDDEN: ADMIN_HINT });
  io.stdout.write(values.json ? JSON.stringify(tokens) + "\n" : formatTokenList(tokens));
  return 0;
};

const revoke: Subcommand = async (args, io) => {
  const { values, positionals: given } = parse(args, { ...DAEMON_FLAGS }, TOKENS_USAGE);
  const { id } = positionals(given, ["id"], TOKENS_USAGE);
  const r = await hinted(connect(values).revokeToken(id), {
    ERR_FORBIDDEN: ADMIN_HINT,
    ERR_NOT_FOUND: "see `cbo tokens list` for the ids",
  });
  if (values.json) writeJson(io, r);
  else io.stdout.write(`token ${r.id} revoked\n`);
  return 0;
};

export async function tokensCommand(args: string[], io: CliIo = processIo()): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) return (io.stdout.write(TOKENS_USAGE + "\n"), 0);
  return dispatch("tokens", args, io, { create, list, revoke }, TOKENS_USAGE);
}
