// The vault's public surface.
export { createVault, type Vault, type VaultOptions, type SecretInfo, type VersionInfo } from "./secret-store.ts";
export { MasterKey, masterKeyFromEnv, parseKeyText, type MasterKeySource } from "./master-key.ts";
export { masterKeyFromFile, generateKeyFile } from "./key-file.ts";
export { masterKeyFromPassphrase, SCRYPT_DEFAULTS } from "./passphrase.ts";
export { loadMasterKey, type MasterKeyOptions } from "./load-master-key.ts";
export type { VaultEvent, VaultEventType, ReadPurpose } from "./events.ts";
export type { Rotation } from "./rotate.ts";
export { MODES, DEFAULT_MODE, MAX_VALUE_BYTES, type Mode } from "./names.ts";
export { sealingKeyId } from "./meta.ts";
