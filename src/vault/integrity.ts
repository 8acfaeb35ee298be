// The vault's errors. Messages name secrets, versions and key ids (all public metadata), never a
// value, a key or a row's bytes.
import { CboError } from "../kit/errors.ts";
import type * as z from "zod";

export function integrityError(message: string, details?: Record<string, unknown>, hint?: string): CboError {
  return new CboError("ERR_VAULT_INTEGRITY", message, {
    ...(details === undefined ? {} : { details }),
    hint: hint ?? "the vault's data was altered, or this is not the master key that sealed it; restore from a backup if the key is right",
  });
}

/**
 * Parses a row read back from SQLite. A row that does not match its schema was not written by
 * this code, so it is an integrity failure; only the failing paths are reported, never values.
 */
export function parseRow<T>(schema: z.ZodType<T>, row: unknown, what: string): T {
  const r = schema.safeParse(row);
  if (r.success) return r.data;
  const paths = [...new Set(r.error.issues.map((i) => i.path.join(".") || "(row)"))];
  throw integrityError(`vault record ${what} does not match its schema (${paths.join(", ")})`, { fields: paths });
}
