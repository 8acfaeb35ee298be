-- Config sync and the edge agents' reports (src/sync, src/store/config-sync.ts, src/store/agents.ts).

-- One row per published config version of a worker. `configs`: JSON {target: config object} as
-- signed into each target's bundle; `hash`: SHA-256 of their canonical JSON. A rollback publishes
-- an earlier version's configs again as a rollback bundle (`rollback_of` names that version).
CREATE TABLE config_versions (
  tenant TEXT NOT NULL,
  worker TEXT NOT NULL,
  version INTEGER NOT NULL CHECK (version >= 1),
  hash TEXT NOT NULL,
  configs TEXT NOT NULL,
  rollback_of INTEGER,
  created_at TEXT NOT NULL,
  created_by TEXT,
  PRIMARY KEY (tenant, worker, version)
);

-- What each target was last given: the version written to its KV (the bundle's own version, and
-- when it was issued), whether the poke reached the Worker, and when an agent there first
-- reported running it.
CREATE TABLE config_targets (
  tenant TEXT NOT NULL,
  worker TEXT NOT NULL,
  target TEXT NOT NULL,
  version INTEGER NOT NULL,
  issued_at TEXT NOT NULL,
  written_at TEXT NOT NULL,
  poke TEXT NOT NULL,
  applied_at TEXT,
  PRIMARY KEY (tenant, worker, target)
);

-- The newest heartbeat of each isolate: what it runs and applied.
CREATE TABLE agent_isolates (
  tenant TEXT NOT NULL,
  worker TEXT NOT NULL,
  target TEXT NOT NULL,
  isolate TEXT NOT NULL,
  version_id TEXT,
  config_version INTEGER,
  uptime_ms INTEGER NOT NULL,
  requests INTEGER NOT NULL,
  errors INTEGER NOT NULL,
  received_at TEXT NOT NULL,
  PRIMARY KEY (tenant, worker, target, isolate)
);
CREATE INDEX agent_isolates_by_time ON agent_isolates (received_at);

-- Requests and errors per code version, summed from heartbeat windows into one-second buckets of
-- arrival: what a gate reads to judge a canary by its own traffic.
CREATE TABLE agent_traffic (
  tenant TEXT NOT NULL,
  worker TEXT NOT NULL,
  target TEXT NOT NULL,
  version_id TEXT NOT NULL,
  second INTEGER NOT NULL,
  requests INTEGER NOT NULL,
  errors INTEGER NOT NULL,
  PRIMARY KEY (tenant, worker, target, version_id, second)
);
