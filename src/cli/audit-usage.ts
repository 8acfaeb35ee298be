// The help text of `cbo audit`, apart so that the offline verifier does not load the API client.
import { DAEMON_FLAGS_USAGE } from "./daemon-flags.ts";

export const AUDIT_USAGE = `usage: cbo audit <command>
  tail [-n N]                the last N entries (default 20) ${DAEMON_FLAGS_USAGE}
  search [--actor A] [--action A|prefix.*] [--target T] [--since 1h|ISO] [--until 1h|ISO] [--text S]
         [--limit N] [--before SEQ]   matching entries, oldest first (--before pages back)
  verify [--data DIR] [--db FILE] [--checkpoint FILE ...] [--public-key B64URL ...] [--key-url URL] [--json]
         offline: reads the SQLite file (default <data>/orchestrator.sqlite) read-only, never the daemon, and
         checks the hash chain and the signed checkpoints, also those in FILE (default
         <data>/audit-checkpoints.jsonl); exit 0 ok, 1 names the first bad entry`;
