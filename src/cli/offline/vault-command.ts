// `cbo vault rotate-master-key`: a new master key for the vault, by re-wrapping every data key
// (values are never re-encrypted). Two ways:
//   online   the running daemon does it (POST /v1/vault/rotate-master-key, admin) when its key
//            came from a key file: it writes the new key beside it, re-wraps, swaps the file in and
//            keeps the old key as <file>.retired-<id>; it keeps serving throughout;
//   offline  with the daemon stopped (vault-rotate-offline.ts): --new-key-file F re-wraps under the
//            key in F (made if missing), for a key from CBO_MASTER_KEY or a passphrase; --offline
//            swaps a key file in place, as the daemon would.
import { CboError } from "../../kit/errors.ts";
import { parse } from "../args.ts";
import { processIo, type CliIo } from "../cli-io.ts";
import { connect, DAEMON_FLAGS } from "../daemon-flags.ts";
import { dispatch, hinted, positionals, writeJson, type Subcommand } from "../subcommand.ts";
import { VAULT_USAGE } from "../vault-usage.ts";

export { VAULT_USAGE };

export const OFFLINE_HINT =
  "the daemon's master key comes from CBO_MASTER_KEY or a passphrase: stop the daemon, run `cbo vault rotate-master-key --data DIR --new-key-file F`, then start it with CBO_MASTER_KEY_FILE=F";

const rotateMasterKey: Subcommand = async (args, io) => {
  const { values, positionals: given } = parse(
    args,
    { ...DAEMON_FLAGS, "new-key-file": { type: "string" }, offline: { type: "boolean" }, "master-key-file": { type: "string" } },
    VAULT_USAGE,
  );
  positionals(given, [], VAULT_USAGE);
  if (values["new-key-file"] !== undefined || values.offline) return (await import("./vault-rotate-offline.ts")).rotateOffline(values, io);
  if (values["master-key-file"] !== undefined) {
    throw new CboError("ERR_USAGE", "--master-key-file is for the offline rotation: online, the daemon rotates the key it holds.", {
      hint: VAULT_USAGE,
    });
  }
  const r = await hinted(connect(values).rotateMasterKey(), {
    ERR_CONFLICT: (e) => (/cannot rewrite/.test(e.message) ? OFFLINE_HINT : undefined),
    ERR_FORBIDDEN: "rotating the master key needs an admin token",
  });
  if (values.json) writeJson(io, r);
  else {
    io.stdout.write(
      [
        `master key rotated online: ${r.fromKeyId} -> ${r.toKeyId}; ${r.rewrapped} data key(s) re-wrapped, no value re-encrypted, no request refused`,
        `  key file     ${r.keyFile} (now key ${r.toKeyId})`,
        `  retired key  ${r.retiredKeyFile}: keep it, apart from the archives, while you keep backups made before now (they restore with it)`,
      ].join("\n") + "\n",
    );
  }
  return 0;
};

export async function vaultCommand(args: string[], io: CliIo = processIo()): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) return (io.stdout.write(VAULT_USAGE + "\n"), 0);
  return dispatch("vault", args, io, { "rotate-master-key": rotateMasterKey }, VAULT_USAGE);
}
