// Keyed hashes: how a secret value is referred to in the audit log (see details-guard.ts).
// HMAC-SHA256 under a key the vault holds, hex. The audit key must not be any key that protects
// the secrets themselves; rotating it only breaks matching across the rotation, not the chain.
import { createHmac } from "node:crypto";
import { CboError } from "../kit/errors.ts";

export function keyedHash(key: Uint8Array, value: string | Uint8Array): string {
  if (key.length < 32) throw new CboError("ERR_INTERNAL", "An audit hash key has at least 32 bytes.");
  return createHmac("sha256", key).update(value).digest("hex");
}
