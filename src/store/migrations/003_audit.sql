-- The audit log (src/audit): hash-chained entries and signed checkpoints. Append-only: the
-- triggers stop the application (not an attacker with the file) from rewriting history; the hash
-- chain and the signed checkpoints are what make tampering evident.
CREATE TABLE audit_entries (
  seq INTEGER PRIMARY KEY,          -- 1, 2, 3 ... without gaps; inside the hashed body
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT,
  tenant TEXT,
  outcome TEXT NOT NULL,
  details TEXT NOT NULL,            -- canonical JSON
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX audit_entries_by_actor ON audit_entries (actor);
CREATE INDEX audit_entries_by_action ON audit_entries (action);
CREATE INDEX audit_entries_by_target ON audit_entries (target);
CREATE INDEX audit_entries_by_at ON audit_entries (at);

CREATE TABLE audit_checkpoints (
  tree_size INTEGER PRIMARY KEY,
  merkle_root TEXT NOT NULL,
  head_hash TEXT NOT NULL,
  key_id TEXT NOT NULL,
  at TEXT NOT NULL,
  signature TEXT NOT NULL,
  frontier TEXT NOT NULL            -- JSON array of subtree roots, so the next checkpoint hashes only new entries; not signed
);

CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
