// `cbo vault`'s usage, shared by its online and offline paths (offline/vault-command.ts, offline/vault-rotate-offline.ts).
import { DAEMON_FLAGS_USAGE } from "./daemon-flags.ts";

export const VAULT_USAGE = `usage: cbo vault rotate-master-key ${DAEMON_FLAGS_USAGE}
         online (admin): the running daemon rotates the key file it was started with, re-wrapping every
         data key in one transaction; it keeps serving throughout; the old key is kept as <file>.retired-<id>
       cbo vault rotate-master-key --data DIR --new-key-file F [--master-key-file FILE] [--json]
         offline (daemon stopped): re-wraps the vault under the key in F (a new random key, 0600, if F does
         not exist); the current key from CBO_MASTER_KEY, --master-key-file / CBO_MASTER_KEY_FILE, or
         CBO_MASTER_PASSPHRASE; then start the daemon with CBO_MASTER_KEY_FILE=F
       cbo vault rotate-master-key --data DIR --offline [--master-key-file FILE] [--json]
         offline, in place: the key file (default <data>/master.key) gets a new key, the old one is kept
         as <file>.retired-<id>
       either way the rotation is on the audit record (vault.key_rotate); backups made before it restore
       with the old key (cbo restore finds <file>.retired-<id> beside --master-key-file)`;
