-- Per-target resources (src/store/target-resources.ts): the KV namespaces, D1 databases, R2
-- buckets and queues each target holds for a Worker's logical resource names, found or created by
-- a release (src/deploy/resources-phase.ts). `resource_id` is the account's id of it (KV namespace
-- id, D1 uuid, queue id; an R2 bucket's id is its name). `created_by` is the release that created
-- it, NULL when the release found it there already. `jurisdiction` is the one it was created or
-- found in ('' for none: R2 buckets of one name may exist once per jurisdiction).
CREATE TABLE target_resources (
  tenant TEXT NOT NULL,
  target TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('kv', 'd1', 'r2', 'queue')),
  name TEXT NOT NULL,
  jurisdiction TEXT NOT NULL DEFAULT '',
  account_id TEXT NOT NULL,
  resource_id TEXT NOT NULL,
  created_by TEXT,
  first_seen_by TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (tenant, target, kind, name, jurisdiction)
);
