// Usage of the commands about secrets, tokens, the audit log, the master key, backups and restores.
import { ROLES } from "../../contract/index.ts";
import { DAEMON_FLAGS_USAGE, type CommandUsage } from "./types.ts";

export const MASTER_KEY_USAGE = `master key: CBO_MASTER_KEY, --master-key-file FILE (or CBO_MASTER_KEY_FILE), or the passphrase in CBO_MASTER_PASSPHRASE`;

export const secrets: CommandUsage = {
  summary:
    "secrets in the vault; the value comes from stdin or --from-file, never the command line\n(stdin loses one trailing newline, a file is taken byte for byte); get prints only the value",
  flags: DAEMON_FLAGS_USAGE,
  subs: {
    set: {
      args: "<name> [--from-file F] [--cas N] [--mode binding|relay] [--jurisdiction eu ...]",
      about:
        "the value comes from stdin (one trailing newline dropped) or --from-file F (byte for byte), never from\nthe command line; --cas N: only if the secret is at version N (0: new)",
    },
    get: { args: "<name> [--version N]", about: "prints the value and nothing else (admin; audited)" },
    list: { args: "", about: "every secret: version, mode, jurisdictions; never values" },
    versions: { args: "<name>", about: "the kept versions; never values" },
    rollback: { args: "<name> --to N [--cas N]", about: "a new version holding version N's value" },
    delete: { args: "<name> [--cas N]", about: "soft delete (undelete brings it back)" },
    undelete: { args: "<name>", about: "(admin)" },
    destroy: { args: "<name> [--version N ...] --yes", about: "erase versions (all without --version) for good (admin)" },
    deliver: {
      args: "<name> [--wait]",
      about:
        "release every worker that lists it, so each target ships the current version (canary steps and gates);\n--wait follows those releases (exit 0 all shipped, 3 one rolled back or aborted, 2 one failed)",
    },
  },
};

export const tokens: CommandUsage = {
  summary: "API tokens: create prints the new token once (stdout), list never shows one",
  flags: DAEMON_FLAGS_USAGE,
  subs: {
    create: {
      args: `--name N --role ${ROLES.join("|")} [--tenant T] [--expires 30d|ISO] [--offline]`,
      about:
        "prints the new token once (it is stored only as a hash). --offline (with the daemon stopped, on --data DIR):\nmints it in the data directory itself, on the audit record; the way back in when no admin token is at hand\n(a restored data directory, a lost <data>/admin-token); an admin token made so is also written to\n<data>/admin-token (0600) when that file does not exist",
    },
    list: { args: "", about: "id, name, role, tenant, expiry and state of every token; never a token" },
    revoke: { args: "<id>", about: "the token stops working at once" },
  },
};

export const audit: CommandUsage = {
  summary: "the hash-chained audit log",
  subs: {
    tail: { args: `[-n N] ${DAEMON_FLAGS_USAGE}`, about: "the last N entries (default 20)" },
    search: {
      args: `[--actor A] [--action A|prefix.*] [--target T] [--since 1h|ISO] [--until 1h|ISO] [--text S]\n         [--limit N] [--before SEQ] ${DAEMON_FLAGS_USAGE}`,
      about: "matching entries, oldest first (--before pages back)",
    },
    verify: {
      args: "[--data DIR] [--db FILE] [--checkpoint FILE ...] [--public-key B64URL ...] [--key-url URL] [--json]",
      about:
        "offline: reads the SQLite file (default <data>/orchestrator.sqlite) read-only, never the daemon, and\nchecks the hash chain and the signed checkpoints, also those in FILE (default\n<data>/audit-checkpoints.jsonl); exit 0 ok, 1 names the first bad entry",
    },
  },
};

export const vault: CommandUsage = {
  summary: "the vault's master key, rotated by re-wrapping every data key",
  subs: {
    "rotate-master-key": {
      args: `${DAEMON_FLAGS_USAGE}\n       | --data DIR --new-key-file F [--master-key-file FILE] [--json]\n       | --data DIR --offline [--master-key-file FILE] [--json]`,
      about: `online (admin): the running daemon rotates the key file it was started with, re-wrapping every
data key in one transaction; it keeps serving throughout; the old key is kept as <file>.retired-<id>
--new-key-file F, offline (daemon stopped): re-wraps the vault under the key in F (a new random key, 0600,
if F does not exist); the current key from CBO_MASTER_KEY, --master-key-file / CBO_MASTER_KEY_FILE, or
CBO_MASTER_PASSPHRASE; then start the daemon with CBO_MASTER_KEY_FILE=F
--offline, in place: the key file (default <data>/master.key) gets a new key, the old one is kept as
<file>.retired-<id>
either way the rotation is on the audit record (vault.key_rotate); backups made before it restore with
the old key (cbo restore finds <file>.retired-<id> beside --master-key-file)`,
    },
  },
};

export const backup: CommandUsage = {
  summary:
    "one encrypted, integrity-checked archive of the store, vault and audit log; through the running\ndaemon (on the audit record, admin token), else from the files; --keep N prunes --dir to the N newest",
  synopsis: ["[--out FILE | --dir DIR [--keep N]] [--data DIR] [--master-key-file FILE] [--url URL] [--token-file FILE] [--json]"],
  about: `writes one encrypted archive of the store, vault and audit log (default: --dir <data>/backups);
--keep N removes all but the N newest archives in --dir
with a daemon running on --data (or at --url), the daemon writes it (admin token; paths are on its host;
default: its backup directory), sealed with its own master key, and records it in the audit log; with
none, this command reads the files
(${MASTER_KEY_USAGE}; default <data>/master.key when none is given and it exists)`,
};

export const restore: CommandUsage = {
  summary:
    "an archive onto an empty or new data directory: decrypts, checks integrity and the audit chain\nagainst the last signed checkpoint, leaves nothing if any check fails",
  synopsis: ["<archive> --data DIR [--master-key-file FILE] [--checkpoint FILE ...] [--public-key B64URL] [--json]"],
  about: `DIR must be empty or not exist; nothing is left in it unless every check passes
the master key is the one the archive was sealed with (its id is in the archive's header, and errors name
it): ${MASTER_KEY_USAGE}; a key retired by a rotation is found as <file>.retired-<id> beside --master-key-file
--checkpoint: signed checkpoints kept outside the VPS, checked as far as the archive's log reaches
(later ones cover entries written after the backup: they are counted, not held against it);
--public-key: the orchestrator's public key (default: the one in the restored vault)`,
};
