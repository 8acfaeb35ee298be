// `cbo audit tail|search`: the audit log as the daemon answers it (GET /v1/audit, admin token).
// `cbo audit verify` is not here: it never asks the daemon (offline/audit-verify.ts).
import { parse, intFlag } from "../args.ts";
import { connect, DAEMON_FLAGS } from "../daemon-flags.ts";
import { timeFlag } from "../durations.ts";
import { formatAuditEntries, oldestFirst } from "../format-audit.ts";
import type { AuditQuery } from "../../contract/index.ts";
import { AUDIT_USAGE } from "../audit-usage.ts";
import { hinted, positionals, writeJson, type Subcommand } from "../subcommand.ts";

const ADMIN_HINT = "reading the audit log needs an admin token";
const MAX = Number.MAX_SAFE_INTEGER;

export const tail: Subcommand = async (args, io) => {
  const { values, positionals: given } = parse(args, { ...DAEMON_FLAGS, n: { type: "string", short: "n" } }, AUDIT_USAGE);
  positionals(given, [], AUDIT_USAGE);
  const limit = intFlag(values.n, "n", 1, 10_000) ?? 20;
  const entries = oldestFirst((await hinted(connect(values).audit({ limit }), { ERR_FORBIDDEN: ADMIN_HINT })).items);
  if (values.json) writeJson(io, entries);
  else io.stdout.write(formatAuditEntries(entries, "the audit log is empty"));
  return 0;
};

export const search: Subcommand = async (args, io) => {
  const { values, positionals: given } = parse(
    args,
    {
      ...DAEMON_FLAGS,
      actor: { type: "string" },
      action: { type: "string" },
      target: { type: "string" },
      since: { type: "string" },
      until: { type: "string" },
      text: { type: "string" },
      limit: { type: "string" },
      before: { type: "string" },
    },
    AUDIT_USAGE,
  );
  positionals(given, [], AUDIT_USAGE);
  const q: AuditQuery = {
    ...(values.actor ? { actor: values.actor } : {}),
    ...(values.action ? { action: values.action } : {}),
    ...(values.target ? { target: values.target } : {}),
    ...(values.since ? { since: timeFlag(values.since, "since", -1) } : {}),
    ...(values.until ? { until: timeFlag(values.until, "until", -1) } : {}),
    ...(values.text ? { text: values.text } : {}),
  };
  const limit = intFlag(values.limit, "limit", 1, 10_000);
  const beforeSeq = intFlag(values.before, "before", 1, MAX);
  if (limit !== undefined) q.limit = limit;
  if (beforeSeq !== undefined) q.beforeSeq = beforeSeq;
  const entries = oldestFirst((await hinted(connect(values).audit(q), { ERR_FORBIDDEN: ADMIN_HINT })).items);
  if (values.json) writeJson(io, entries);
  else io.stdout.write(formatAuditEntries(entries, "no matching entries"));
  return 0;
};
