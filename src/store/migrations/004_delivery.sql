-- Secret delivery (src/deploy/secrets.ts, src/vault/worker-keys.ts).

-- What each version we uploaded shipped with: JSON {"secrets": {name: version}, "workerKey": version}
-- (binding and relay secrets alike). A rollback to the version brings these back: binding values
-- are part of the version at Cloudflare, relay values are served at the pinned version.
ALTER TABLE versions ADD COLUMN secrets TEXT;

-- Per-Worker keys, one per worker and target, each kept as versions of a reserved vault secret
-- (__worker_key.<worker>.<target>). `accepted`: JSON array of the key versions that verify a
-- signature now, newest first: two during a rotation, one after it.
CREATE TABLE worker_keys (
  tenant TEXT NOT NULL,
  worker TEXT NOT NULL,
  target TEXT NOT NULL,
  accepted TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (tenant, worker, target)
);
