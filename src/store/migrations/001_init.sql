-- Orchestrator state. Every record carries a tenant so that isolation later is not a rewrite.
CREATE TABLE targets (
  tenant TEXT NOT NULL, name TEXT NOT NULL, api TEXT NOT NULL, account_id TEXT NOT NULL,
  region TEXT, jurisdiction TEXT, kv_namespace TEXT, updated_at TEXT NOT NULL,
  PRIMARY KEY (tenant, name)
);
CREATE TABLE workers (
  tenant TEXT NOT NULL, name TEXT NOT NULL, spec TEXT NOT NULL, updated_at TEXT NOT NULL,
  PRIMARY KEY (tenant, name)
);
-- Versions the orchestrator uploaded (or found) per target.
CREATE TABLE versions (
  tenant TEXT NOT NULL, worker TEXT NOT NULL, target TEXT NOT NULL, version_id TEXT NOT NULL,
  release_id TEXT, bundle_hash TEXT, created_at TEXT NOT NULL,
  PRIMARY KEY (tenant, target, version_id)
);
CREATE INDEX versions_by_worker ON versions (tenant, worker, target, created_at);
CREATE TABLE releases (
  id TEXT PRIMARY KEY, tenant TEXT NOT NULL, worker TEXT NOT NULL, kind TEXT NOT NULL,
  status TEXT NOT NULL, reason TEXT, plan TEXT NOT NULL, created_by TEXT,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE INDEX releases_by_worker ON releases (tenant, worker, created_at);
CREATE INDEX releases_by_status ON releases (status);
-- Write-ahead journal of a release: intent is recorded before each edge call, outcome after.
CREATE TABLE release_journal (
  release_id TEXT NOT NULL, seq INTEGER NOT NULL, kind TEXT NOT NULL, target TEXT,
  data TEXT NOT NULL, at TEXT NOT NULL,
  PRIMARY KEY (release_id, seq)
);
CREATE TABLE health (
  tenant TEXT NOT NULL, worker TEXT NOT NULL, target TEXT NOT NULL, status TEXT NOT NULL,
  version_id TEXT, latency_ms REAL, detail TEXT, checked_at TEXT NOT NULL, changed_at TEXT NOT NULL,
  PRIMARY KEY (tenant, worker, target)
);
CREATE TABLE events (
  id INTEGER PRIMARY KEY AUTOINCREMENT, tenant TEXT NOT NULL, type TEXT NOT NULL,
  release_id TEXT, worker TEXT, target TEXT, data TEXT NOT NULL, at TEXT NOT NULL
);
CREATE INDEX events_by_release ON events (release_id);
CREATE TABLE tokens (
  id TEXT PRIMARY KEY, tenant TEXT, name TEXT NOT NULL, role TEXT NOT NULL, hash TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL, expires_at TEXT, revoked_at TEXT
);
