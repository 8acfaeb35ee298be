-- The vault (src/vault). Nothing here is usable without the master key, which never enters this
-- database: each value is AES-256-GCM under its own data key, and each data key is stored only
-- wrapped (AES-256-GCM) by the master key named in key_id.

-- Vault-wide records, JSON validated with zod on read: 'kdf' (scrypt salt and parameters when the
-- master key comes from a passphrase), 'keys' (current master key id, retired ids), 'hash_key'
-- (the audit hash key, wrapped by the master key).
CREATE TABLE vault_meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

-- One row per secret. current_version is the newest version (versions are never reused, so a
-- check-and-set on it detects any intervening write). deleted_at: soft-deleted (undelete clears
-- it); destroyed_at: every version's ciphertext has been destroyed.
CREATE TABLE secrets (
  tenant TEXT NOT NULL,
  name TEXT NOT NULL,
  current_version INTEGER NOT NULL CHECK (current_version >= 1),
  mode TEXT NOT NULL CHECK (mode IN ('binding', 'relay')),
  jurisdictions TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  deleted_at TEXT,
  destroyed_at TEXT,
  PRIMARY KEY (tenant, name)
);

-- One row per kept version. A destroyed version keeps its metadata and loses every byte of its
-- ciphertext and wrapped key (the CHECK makes a half-destroyed row impossible).
CREATE TABLE secret_versions (
  tenant TEXT NOT NULL,
  name TEXT NOT NULL,
  version INTEGER NOT NULL CHECK (version >= 1),
  ciphertext BLOB,
  iv BLOB,
  tag BLOB,
  wrapped_key BLOB,
  key_id TEXT,
  created_at TEXT NOT NULL,
  created_by TEXT,
  destroyed_at TEXT,
  PRIMARY KEY (tenant, name, version),
  FOREIGN KEY (tenant, name) REFERENCES secrets (tenant, name),
  CHECK ((destroyed_at IS NULL) = (ciphertext IS NOT NULL AND iv IS NOT NULL AND tag IS NOT NULL
                                   AND wrapped_key IS NOT NULL AND key_id IS NOT NULL)),
  CHECK (destroyed_at IS NULL OR (ciphertext IS NULL AND iv IS NULL AND tag IS NULL
                                  AND wrapped_key IS NULL AND key_id IS NULL))
);
CREATE INDEX secret_versions_by_key ON secret_versions (key_id);
