// The single list of what the vault reports to its `onEvent` hook (the audit log's feed). No event
// carries a value: a written value appears only as keyedHash(value).

/** Why a value was decrypted (`redact`: to mask it in fleet logs, src/fleet-logs/secret-values.ts). */
export type ReadPurpose = "get" | "rollback" | "deliver" | "relay" | "cloudflare" | "redact";

type Who = { tenant: string; name: string; by: string | null };

export type VaultEvent =
  | (Who & { type: "secret.read"; version: number; purpose: ReadPurpose })
  | (Who & { type: "secret.written"; version: number; value_hash: string; mode: string; jurisdictions: string[] })
  | (Who & { type: "secret.rolled_back"; version: number; from_version: number; value_hash: string })
  | (Who & { type: "secret.policy_changed"; mode: string; jurisdictions: string[] })
  | (Who & { type: "secret.deleted" })
  | (Who & { type: "secret.undeleted" })
  /** `pruned`: beyond the kept history (keepVersions), removed with its row. */
  | (Who & { type: "secret.destroyed"; versions: number[]; reason: "destroy" | "pruned" })
  | { type: "vault.key_rotated"; from_key: string; to_key: string; rewrapped: number; by: string | null };

export type VaultEventType = VaultEvent["type"];
