// `cbo audit tail|search|verify`. tail and search ask the daemon (GET /v1/audit, admin:
// ../commands/audit-log.ts); verify never does: it checks the SQLite file itself, offline
// (audit-verify.ts), because a verifier that asks the system under suspicion whether it was
// tampered with proves nothing. Hence this dispatcher lives with the offline tools.
import { processIo, type CliIo } from "../cli-io.ts";
import { AUDIT_USAGE } from "../audit-usage.ts";
import { search, tail } from "../commands/audit-log.ts";
import { dispatch, type Subcommand } from "../subcommand.ts";

const verify: Subcommand = async (args, io) => (await import("./audit-verify.ts")).auditVerify(args, io);

export async function auditCommand(args: string[], io: CliIo = processIo()): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) return (io.stdout.write(AUDIT_USAGE + "\n"), 0);
  return dispatch("audit", args, io, { tail, search, verify }, AUDIT_USAGE);
}
