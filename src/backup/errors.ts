// Backup's errors. Any archive that does not authenticate, or whose contents fail their checks,
// is ERR_VAULT_INTEGRITY: the archive is sealed by the vault's master key, and retrying cannot
// fix it. Messages name files and key ids (public), never a key, a value or the archive's bytes.
import { CboError } from "../kit/errors.ts";

export function integrity(what: string, details?: Record<string, unknown>, hint?: string): CboError {
  return new CboError("ERR_VAULT_INTEGRITY", `This backup archive ${what}.`, {
    ...(details === undefined ? {} : { details }),
    hint: hint ?? "the archive was damaged or altered after it was written; use another archive (nothing was restored)",
  });
}
