// What a secret is called and how it is delivered: the vault's input vocabulary, validated at the
// vault's edge so that routes only pass things through.
import * as z from "zod";
import { JurisdictionSchema, MAX_SECRET_VALUE_BYTES, SECRET_MODES, SecretNameSchema, type SecretMode } from "../contract/index.ts";
import { CboError } from "../kit/errors.ts";

/** `relay`: fetched at run time through the tunnel, never stored at Cloudflare; the default, since
 *  a secret should rest at Cloudflare only when the operator chooses `binding`. */
export const MODES = SECRET_MODES;
export type Mode = SecretMode;
export const DEFAULT_MODE: Mode = "relay";

export const TenantSchema = z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, "use lowercase letters, digits and dashes, starting with a letter");
/** Letters, digits, `_`, `.`, `-`; a `binding` secret must also be a Workers binding name. */
export { SecretNameSchema };
const BINDING_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
export { JurisdictionSchema };
export const JurisdictionsSchema = z
  .array(JurisdictionSchema)
  .max(16)
  .transform((js) => [...new Set(js)].sort());
export const VersionSchema = z.number().int().min(1);
/** The most a secret value may hold (src/contract/security.ts). */
export const MAX_VALUE_BYTES = MAX_SECRET_VALUE_BYTES;
/** The most a `binding` secret may hold: it becomes a Workers secret, which Cloudflare caps at 5 KiB. */
export const MAX_BINDING_VALUE_BYTES = 5 * 1024;

export const DEFAULT_TENANT = "default";

/** Parses input options; errors name the path and the rule, never the input (it may be a value). */
export function parseInput<T>(schema: z.ZodType<T>, input: unknown, what: string): T {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
  throw new CboError(
    "ERR_VALIDATION",
    `invalid ${what}: ${issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("; ")}`,
    { details: { issues } },
  );
}

/**
 * A `binding` secret over Cloudflare's 5 KiB would be stored here and then fail every release that
 * ships it (the upload is refused); so it is refused when it is written. Says only the size.
 */
export function checkBindingSize(name: string, mode: Mode, bytes: number): void {
  if (mode === "binding" && bytes > MAX_BINDING_VALUE_BYTES) {
    throw new CboError(
      "ERR_VALIDATION",
      `secret ${name} is ${bytes} bytes; with mode binding it becomes a Workers secret, which Cloudflare caps at ${MAX_BINDING_VALUE_BYTES} bytes (5 KiB)`,
      { hint: `deliver it with mode relay (fetched at run time, up to ${MAX_VALUE_BYTES} bytes), or make it smaller` },
    );
  }
}

export function checkBindingName(name: string, mode: Mode): void {
  if (mode === "binding" && !BINDING_NAME.test(name)) {
    throw new CboError("ERR_VALIDATION", `secret ${name} cannot use mode binding: a Workers secret name has only letters, digits and _`);
  }
}

/** A value as bytes: strings are UTF-8. Says nothing about the value but its size. */
export function valueBytes(value: Uint8Array | string): { bytes: Uint8Array; owned: boolean } {
  const bytes = typeof value === "string" ? Buffer.from(value, "utf8") : value;
  if (!(bytes instanceof Uint8Array)) throw new CboError("ERR_VALIDATION", "a secret value is a string or bytes");
  if (bytes.length === 0) throw new CboError("ERR_VALIDATION", "a secret value cannot be empty");
  if (bytes.length > MAX_VALUE_BYTES) throw new CboError("ERR_VALIDATION", `a secret value is at most ${MAX_VALUE_BYTES} bytes`);
  return { bytes, owned: typeof value === "string" };
}
